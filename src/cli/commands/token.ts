/**
 * `chainr token new | hash`: bearer tokens, and the SHA-256 digest that the tokens file (or the
 * Kubernetes Secret, or the Helm chart's auth.tokens) holds instead of the token.
 */
import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { ROLES, sha256, type Role } from '../../http/auth/tokens.ts';
import type { CliContext, Out } from '../context.ts';
import { action, CliError, EXIT } from '../context.ts';

interface EntryFlags {
  name?: string;
  role?: Role;
}

/** Shorter tokens are refused: they could be guessed. */
const MIN_LENGTH = 16;

/** A name YAML reads back as the same string (else it is quoted, JSON being YAML). */
function yamlName(name: string): string {
  const plain =
    /^[A-Za-z][A-Za-z0-9._@-]*$/.test(name) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(name);
  return plain ? name : JSON.stringify(name);
}

/**
 * The digest as 64 hex digits, or with --name and --role the whole entry of the tokens list:
 * `- { name: ci, role: operator, sha256: <hex> }`.
 */
export function tokenLine(token: string, flags: EntryFlags): string {
  const digest = sha256(token).toString('hex');
  if (flags.name === undefined && flags.role === undefined) return digest;
  if (flags.name === undefined || flags.role === undefined)
    throw new CliError('--name and --role go together (the entry of the tokens file needs both)');
  if (flags.name === '') throw new CliError('--name: must not be empty');
  return `- { name: ${yamlName(flags.name)}, role: ${flags.role}, sha256: ${digest} }`;
}

/** The token on stdin: one line; its line ending is not part of it. */
export function tokenFromInput(text: string): string {
  const token = text.replace(/\r?\n$/, '');
  if (token === '') throw new CliError('no token on stdin');
  if (/[\r\n]/.test(token)) throw new CliError('expected one token on one line on stdin');
  if (token.trim() !== token)
    throw new CliError('the token starts or ends with spaces: is that intended? Strip them first');
  if (token.length < MIN_LENGTH)
    throw new CliError(
      `a token of ${token.length} characters is too easy to guess (at least ${MIN_LENGTH}); \`chainr token new\` makes a strong one`,
    );
  return token;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const entryOptions = (command: Command): Command =>
  command
    .option('--name <name>', 'print the whole tokens file entry, with this name')
    .addOption(new Option('--role <role>', 'the entry’s role').choices(ROLES));

const FORMAT = `
The tokens file (CHAINR_TOKENS_FILE, the Kubernetes Secret's tokens.yaml, or the Helm chart's
auth.tokens) lists {name, role, sha256}; sha256 is the token's SHA-256 in hex, never the token.`;

export function registerToken(program: Command, ctx: CliContext): void {
  const token = program
    .command('token')
    .description('Make bearer tokens and the digests the tokens file holds');

  entryOptions(
    token
      .command('new')
      .description('Generate a strong random token; print it once, then its digest or entry'),
  )
    .addHelpText(
      'after',
      `
Prints two lines: the token (256 random bits, 64 hex digits; give it to the client as
CHAINR_TOKEN, it is not shown again) and what \`chainr token hash\` prints for it.
${FORMAT}

Examples:
  chainr token new
  chainr token new --name ci --role operator
  chainr token new --name ci --role operator | { read -r token; read -r entry; ...; }`,
    )
    .action(
      action(ctx, (flags: EntryFlags) => {
        const secret = randomBytes(32).toString('hex');
        const line = tokenLine(secret, flags);
        ctx.stdout.write(`${secret}\n${line}\n`);
        return Promise.resolve(EXIT.ok);
      }),
    );

  entryOptions(
    token
      .command('hash')
      .description('Print the digest of the token read from stdin, as the tokens file holds it'),
  )
    .addHelpText(
      'after',
      `
Reads one token from stdin (a trailing line ending is not part of it) and prints its SHA-256 in
hex; with --name and --role, the whole entry: - { name: ci, role: operator, sha256: ... }
${FORMAT}

Examples:
  printf %s "$CHAINR_TOKEN" | chainr token hash
  chainr token hash --name alice --role admin < alice.token >> tokens-entries.yaml`,
    )
    .action(
      action(ctx, async (flags: EntryFlags) => {
        const stdin = ctx.stdin as NodeJS.ReadableStream & { isTTY?: boolean };
        if (stdin.isTTY) say(ctx.stderr, 'paste the token, then press Enter and Ctrl-D');
        const line = tokenLine(tokenFromInput(await readAll(stdin)), flags);
        ctx.stdout.write(`${line}\n`);
        return EXIT.ok;
      }),
    );
}

function say(out: Out, line: string): void {
  out.write(`chainr: ${line}\n`);
}
