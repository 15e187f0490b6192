// The SLURM commands the launcher runs, through core's ClusterCommands (timeouts,
// counts, retries with jittered backoff), and which of their failures pass.
import { ClusterCommands, type Connector, type LoggerLike } from '@baton/core';

export type SlurmCommandName = 'sbatch' | 'sacct' | 'squeue' | 'scancel' | 'scontrol';

export type SlurmCommandCounts = Record<SlurmCommandName, number>;

/** Failures that pass by themselves: the controller is busy, restarting or unreachable for a moment. */
const TRANSIENT =
  /Socket timed out|Unable to contact slurm controller|slurmctld (?:is )?not responding|Resource temporarily unavailable|Connection refused|Zero Bytes were transmitted|temporarily unable to accept|Transport endpoint is not connected|Connection reset|try again later/i;

export function slurmCommands(options: { connector: Connector; logger: LoggerLike; timeoutMs: number; retryBaseMs?: number }): ClusterCommands<SlurmCommandName> {
  return new ClusterCommands({ ...options, scheduler: 'SLURM', commands: ['sbatch', 'sacct', 'squeue', 'scancel', 'scontrol'], transient: TRANSIENT });
}
