// The OAR commands the launcher runs, through core's ClusterCommands (timeouts,
// counts, retries with jittered backoff), and which of their failures pass.
import { ClusterCommands, type Connector, type LoggerLike } from '@baton/core';

export type OarCommandName = 'oarsub' | 'oarstat' | 'oardel';

export type OarCommandCounts = Record<OarCommandName, number>;

/**
 * Failures that pass by themselves: the OAR server or its database restarting or out of
 * reach for a moment. oarsub asks the server (Almighty) to schedule, oarstat and oardel
 * read and write the database.
 */
const TRANSIENT =
  /Cannot connect to (?:the )?(?:database|server|executor|Almighty)|Could not connect to the socket|could not connect to (?:the )?server|Connection refused|Connection timed out|Connection reset|database system is (?:starting up|shutting down)|the server is not (?:running|answering)|Resource temporarily unavailable|try again later/i;

export function oarCommands(options: { connector: Connector; logger: LoggerLike; timeoutMs: number; retryBaseMs?: number }): ClusterCommands<OarCommandName> {
  return new ClusterCommands({ ...options, scheduler: 'OAR', commands: ['oarsub', 'oarstat', 'oardel'], transient: TRANSIENT });
}
