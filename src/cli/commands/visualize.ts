/** `duo-j1 visualize`: the HTML picture of a local graph directory. */
import { loadConfig } from '../../config/instances';
import { localOutputPaths } from '../../output/paths';
import { visualize } from '../../output/picture/visualize';
import { ExitCode } from '../exit-codes';

export async function visualizeCommand(outputDir: string | undefined, flags: { instance: string }): Promise<number> {
  const folder =
    outputDir ??
    localOutputPaths(loadConfig(process.env, { allowNoInstances: true, checkSecrets: false }).dataDir, flags.instance)
      .outputDir;
  const page = await visualize(folder);
  console.log(`Wrote ${page} (self-contained; open it in any browser, offline).`);
  return ExitCode.Success;
}
