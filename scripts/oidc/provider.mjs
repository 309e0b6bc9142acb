// A real OpenID Connect provider for development and tests: Node's oidc-provider (a certified implementation)
// on 127.0.0.1, with a client for the factory and test people (verified and unverified e-mail addresses, a
// groups claim). Started and stopped by scripts/oidc-dev-provider; nothing here is fit for production.
//
// Environment: OIDC_DEV_PORT (default 9444), OIDC_DEV_CLIENT_ID, OIDC_DEV_CLIENT_SECRET.
// The sign-in page asks for a login name and a password (the people below); consent is given on the
// people's behalf (the factory is a first-party client). POST /dev/people adds or replaces a person
// (JSON: login, password, sub, email, email_verified, name, groups): the tests make people of their own.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

const PORT = Number(process.env.OIDC_DEV_PORT || 9444);
const ISSUER = `http://127.0.0.1:${PORT}`;
const CLIENT_ID = process.env.OIDC_DEV_CLIENT_ID || 'aifactory-dev';
const CLIENT_SECRET = process.env.OIDC_DEV_CLIENT_SECRET || 'aifactory-dev-client-secret-not-for-production';
const GROUP = 'urn:geant:example.org:group';

// login name -> the person: password and claims (sub is stable; e-mail addresses may change)
const people = new Map(Object.entries({
  ada: {
    password: 'ada-signs-in', sub: 'ada-7f3c', email: 'ada@uni-example.de', email_verified: true,
    name: 'Ada Lovelace', groups: [`${GROUP}:uni-example:ai-lab#aai.example.org`, `${GROUP}:hpc-users`],
  },
  grace: {
    password: 'grace-signs-in', sub: 'grace-91d2', email: 'grace@startup-example.eu', email_verified: true,
    name: 'Grace Hopper', groups: [],
  },
  mallory: {
    password: 'mallory-signs-in', sub: 'mallory-0bad', email: 'mallory@uni-example.de', email_verified: false,
    name: 'Mallory Unverified', groups: [`${GROUP}:uni-example:ai-lab#aai.example.org`],
  },
}));

function findBySub(sub) {
  for (const person of people.values()) if (person.sub === sub) return person;
  return undefined;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `dev-${Date.now()}`, use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    // native: loopback redirect URIs match on any port (RFC 8252), so test servers on random ports work
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/sso/devaai/callback', 'http://127.0.0.1/sso/otheraai/callback',
      'http://localhost/sso/devaai/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['dev-cookie-key-one-not-secret', 'dev-cookie-key-two-not-secret'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AuthorizationCode: 120, Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  async findAccount(ctx, sub) {
    const person = findBySub(sub);
    if (!person) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { password, ...claims } = person; // eslint-disable-line no-unused-vars
        return claims;
      },
    };
  },
};

const provider = new Provider(ISSUER, configuration);
const handle = provider.callback();

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(uid, clientId, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dev AAI: sign in</title></head>
<body><main><h1>Development AAI</h1><p>Sign in to continue to <strong>${escape(clientId)}</strong>.</p>
${error ? `<p role="alert" id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Login name</label> <input id="login" name="login" autocomplete="username" required>
<label for="password">Password</label> <input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form>
<p><a href="/interaction/${escape(uid)}/abort">Cancel</a></p></main></body></html>`;
}

async function body(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 65536) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString();
}

function send(res, status, type, text) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
}

// oidc-provider asks native clients for consent every time (native_client_prompt): given here on the
// person's behalf, for the scopes and claims the request names
async function consent(req, res, details) {
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  const result = { consent: details.grantId ? {} : { grantId } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/plain', 'interaction mismatch');
  if (action === 'abort') {
    const result = { error: 'access_denied', error_description: 'the person cancelled the sign-in' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'consent') return consent(req, res, details);
  if (req.method === 'GET') return send(res, 200, 'text/html; charset=utf-8', page(uid, details.params.client_id));
  const form = new URLSearchParams(await body(req));
  const person = people.get(form.get('login') || '');
  if (!person || person.password !== form.get('password')) {
    return send(res, 401, 'text/html; charset=utf-8', page(uid, details.params.client_id, 'Wrong login or password.'));
  }
  const result = { login: { accountId: person.sub } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function addPerson(req, res) {
  const person = JSON.parse(await body(req));
  if (!person.login || !person.password || !person.sub) return send(res, 400, 'text/plain', 'login, password, sub');
  const { login, ...rest } = person;
  people.set(login, { email_verified: false, groups: [], name: login, ...rest });
  return send(res, 204, 'text/plain', '');
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, ISSUER);
    const match = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
    if (match) return await interaction(req, res, match[1], match[2]);
    if (url.pathname === '/dev/people' && req.method === 'POST') return await addPerson(req, res);
    return handle(req, res);
  } catch (err) {
    return send(res, 400, 'text/plain', `error: ${err.message}`);
  }
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`oidc-dev-provider: issuer ${ISSUER}, client ${CLIENT_ID}`);
});
