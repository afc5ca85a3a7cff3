/** `duo-j1 document`: regenerates the Data Model section of docs/jupiterone.md. */
import path from 'node:path';
import { updateDocumentationFile } from '../../graph/documentation';
import { ExitCode } from '../exit-codes';

export const USER_GUIDE = path.resolve(__dirname, '..', '..', '..', 'docs', 'jupiterone.md');

export async function documentCommand(flags: { check?: boolean }): Promise<number> {
  const update = await updateDocumentationFile(USER_GUIDE, { check: flags.check });
  if (flags.check && update.changed) {
    console.error(`${update.path}: the Data Model section is out of date; run "duo-j1 document".`);
    return ExitCode.Failure;
  }
  console.log(update.changed ? `Updated the Data Model section of ${update.path}` : `${update.path} is up to date`);
  return ExitCode.Success;
}
