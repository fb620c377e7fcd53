/**
 * `chainr pod-artifacts inputs|outputs ...`: the artifact steps chainr's image runs in a
 * Kubernetes job's pod (executors/kubernetes/pod-transfer.ts). Not for users: the kubernetes
 * executor writes these command lines into the pods it creates; hidden from the help.
 */
import { Command } from 'commander';
import type { PodTransferSpec } from '../../executors/kubernetes/pod-artifacts.ts';
import type * as PodTransfer from '../../executors/kubernetes/pod-transfer.ts';

export function registerPodArtifacts(program: Command): void {
  const command = new Command('pod-artifacts').description(
    "artifact steps of a Kubernetes job's pod (run by the kubernetes executor)",
  );
  const spec = (text: string) => JSON.parse(text) as PodTransferSpec;
  // Loaded only here: the S3 client takes a while to load, and no other command needs it.
  const run = async (step: (transfer: typeof PodTransfer) => Promise<number>) => {
    process.exitCode = await step(await import('../../executors/kubernetes/pod-transfer.ts'));
  };
  command
    .command('inputs <dir> <termination-message> <spec>')
    .action((dir: string, termination: string, text: string) =>
      run((t) => t.runPodStep(() => t.podInputs(spec(text), dir), termination)),
    );
  command
    .command('outputs <collect-dir> <marker> <termination-message> <spec>')
    .action((collect: string, marker: string, termination: string, text: string) =>
      run((t) => t.runPodStep(() => t.podOutputs(spec(text), collect, marker), termination)),
    );
  program.addCommand(command, { hidden: true });
}
