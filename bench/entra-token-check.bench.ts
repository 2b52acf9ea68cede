// The emulator's Entra ID checks on the hub's hot path (`npx tsx bench/entra-token-check.bench.ts`): what it costs
// to check a bearer token on every request, the first time (RSA signature, claims) and once verified (the cache
// of verified tokens, which a client sending the same token for an hour hits), and what one token grant costs
// (a client secret: the authority's form parsing and an RS256 signature).
import { EntraAuthority } from '../src/emulator/entra/authority.js';

const ORIGIN = 'https://localhost:1';
const FORM =
  'grant_type=client_credentials&client_id=app&client_secret=s&scope=https%3A%2F%2Fiothubs.azure.net%2F.default';

function perCall(n: number, call: () => unknown): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) call();
  return Number(process.hrtime.bigint() - started) / 1000 / n;
}

const authority = new EntraAuthority(
  { tenantId: 'tenant', applications: [{ clientId: 'app', secrets: ['s'] }] },
  () => ORIGIN,
  () => Date.now(),
);
const grant = async () =>
  (await authority.handle('POST', new URL(`${ORIGIN}/tenant/oauth2/v2.0/token`), {}, FORM)).body as {
    access_token: string;
  };

const GRANTS = 500;
let started = process.hrtime.bigint();
const tokens: string[] = [];
for (let i = 0; i < GRANTS; i++) tokens.push((await grant()).access_token);
const grantUs = Number(process.hrtime.bigint() - started) / 1000 / GRANTS;

started = process.hrtime.bigint();
for (const token of tokens) if (!authority.verifyAccessToken(token).ok) throw new Error('refused');
const firstUs = Number(process.hrtime.bigint() - started) / 1000 / GRANTS;
const cachedUs = perCall(100_000, () => authority.verifyAccessToken(tokens[0]));

console.log(`token grant (client secret): ${grantUs.toFixed(0)} µs each over ${GRANTS}`);
console.log(
  `bearer check, first time: ${firstUs.toFixed(1)} µs; once verified: ${cachedUs.toFixed(2)} µs (100,000 calls)`,
);
