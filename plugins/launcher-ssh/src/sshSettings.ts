// The settings block of a `use: ssh` connector: which host, and how to reach it.
// Everything `ssh` reads from ~/.ssh/config (HostName, User, Port, IdentityFile,
// ProxyJump) applies; a key given here wins over the config file's.
import { z } from 'zod';

export const sshConnectorSettings = z.object({
  host: z.string().min(1).describe('Host to reach: a name or address, or a Host alias of ~/.ssh/config'),
  user: z.string().min(1).optional().describe('User on the host; default: the config file’s User, else the local user name'),
  port: z.number().int().min(1).max(65_535).optional().describe('SSH port; default: the config file’s Port, else 22'),
  identityFile: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe('Private key file(s) to offer, after the agent’s keys; default: the config file’s IdentityFile, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa. A passphrase-protected key must be in the agent'),
  proxyJump: z.string().min(1).optional().describe('Reach the host through this one (user@host:port or a config alias), as `ssh -J`'),
  configFile: z
    .union([z.string().min(1), z.literal(false)])
    .optional()
    .describe('OpenSSH client config to read host aliases from; default ~/.ssh/config; false reads none'),
  knownHostsFile: z.string().min(1).optional().describe('known_hosts file that host keys are checked against (every hop’s); default: the config file’s UserKnownHostsFile, else ~/.ssh/known_hosts'),
  acceptNewHostKey: z
    .boolean()
    .default(false)
    .describe('Accept the key of a host that known_hosts does not list, and add it there (as `StrictHostKeyChecking accept-new`, which the config file may also say). A changed key is refused whatever this says'),
  maxSessions: z
    .number()
    .int()
    .positive()
    .default(8)
    .describe('Channels (commands, the file session) open at once on the one connection; keep it at or below the server’s MaxSessions (OpenSSH: 10)'),
  keepaliveIntervalMs: z.number().int().positive().default(15_000).describe('Keepalive every this many milliseconds; the connection is declared lost after keepaliveCountMax unanswered ones'),
  keepaliveCountMax: z.number().int().positive().default(3).describe('Unanswered keepalives before the connection is declared lost'),
  connectTimeoutMs: z.number().int().positive().default(20_000).describe('Give up on a connection attempt (TCP and handshake) after this long'),
  commandTimeoutMs: z.number().int().positive().default(120_000).describe('Fail a command that has not ended after this long, unless its caller gives its own timeout'),
  reconnectAttempts: z.number().int().nonnegative().default(8).describe('After a lost connection, attempts to reconnect (backoff 0.5 s doubling to 30 s) before commands fail'),
});

export type SshConnectorSettings = z.output<typeof sshConnectorSettings>;
export type SshConnectorInput = z.input<typeof sshConnectorSettings>;
