/**
 * What `duo-j1 simulate jupiterone` runs: starts the simulator and prints one JSON line
 * `{ "url", "apiKey", "account" }` once it listens, so scripts can read its address and test key.
 * The command wiring (flags, signals) lives in the CLI.
 */
import { startJupiterOneSimulator, type JupiterOneSimulator, type JupiterOneSimulatorOptions } from './server';

export async function runJupiterOneSimulatorCommand(
  options: JupiterOneSimulatorOptions = {},
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<JupiterOneSimulator> {
  const simulator = await startJupiterOneSimulator(options);
  print(JSON.stringify({ url: simulator.url, apiKey: simulator.apiKey, account: simulator.account }));
  return simulator;
}
