/**
 * `duo-j1 bench` (`npm run bench -- …`): the whole pipeline against the simulators, one JSON line
 * of figures on stdout; progress on stderr. See docs/benchmarks.md for what each figure means.
 *
 * Two environment variables help investigate (see docs/benchmarks.md):
 *   DUO_J1_BENCH_CPU_PROFILE_DIR=<folder>      V8 CPU profiles of the worker and the simulators
 *   DUO_J1_BENCH_WORKER_NODE_OPTIONS=<options>  Node.js options for the worker process only
 */
import { parseBenchOptions, type BenchFlags } from '../../bench/figures';
import { runBench } from '../../bench/run-bench';
import { ExitCode } from '../exit-codes';

export async function benchCommand(flags: BenchFlags): Promise<number> {
  const options = parseBenchOptions(flags);
  const controller = new AbortController();
  // Ctrl-C stops the benchmark cleanly: the run is terminated and every process it started stopped.
  const interrupt = () => controller.abort(new Error('Benchmark interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const figures = await runBench(options, {
      signal: controller.signal,
      progress: (message) => process.stderr.write(`bench: ${message}\n`),
      cpuProfileDir: process.env.DUO_J1_BENCH_CPU_PROFILE_DIR || undefined,
      workerNodeOptions: process.env.DUO_J1_BENCH_WORKER_NODE_OPTIONS || undefined,
    });
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return ExitCode.Success;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
