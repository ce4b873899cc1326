// SPDX-License-Identifier: Apache-2.0
// Nova (compute API v2.1) emulator for vncgate's tests: just the console calls, validated as strictly as Nova
// does (token via the real Keystone as keystonemiddleware does, policy roles, microversion header, JSON
// schemas with additionalProperties false), answering with Nova's documented shapes. Consoles are real: each
// answer writes a websockify TokenFile entry pointing at the server's VNC address.
//
// Config (JSON file, argv[2]): {port, keystone_url, service: {username, password, project},
//   token_dir, console_base ("http://127.0.0.1:6080"), max_microversion ("2.95"), url_shape ("path"|"token"),
//   servers: {ID: {project_id, vm_state ("active"|"stopped"), vnc ("127.0.0.1:5911")}}}
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { loadConfig, log, readBody, validate } = require('./common');

const config = loadConfig();
const [maxMajor, maxMinor] = (config.max_microversion || '2.95').split('.').map(Number);

const REMOTE_CONSOLE_SCHEMA = {
  type: 'object', required: ['remote_console'], properties: {
    remote_console: {
      type: 'object', required: ['protocol', 'type'], properties: {
        protocol: { enum: ['vnc', 'spice', 'rdp', 'serial', 'mks'] },
        type: { enum: ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial', 'webmks'] },
      },
    },
  },
};
const GET_VNC_CONSOLE_SCHEMA = {
  type: 'object', required: ['os-getVNCConsole'], properties: {
    'os-getVNCConsole': { type: 'object', required: ['type'], properties: { type: { enum: ['novnc', 'xvpvnc'] } } },
  },
};

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
const fault = (res, status, name, message, headers) => send(res, status, { [name]: { code: status, message } }, headers);

// --- keystonemiddleware: validate the user's token with a service token ------------------------------------------
// keystonemiddleware retries a Keystone call that failed to connect (http_request_max_retries, default 3); so do
// we: fetch's pooled connection to uwsgi can be closed by the server just as it is reused after an idle spell.
async function keystoneFetch(url, options) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, options);
    } catch (e) {
      const cause = e.cause ? `: ${e.cause.code || ''} ${e.cause.message || e.cause}` : '';
      log(`keystone request failed (attempt ${attempt})${cause}`);
      if (attempt >= 3) throw new Error(`keystone unreachable${cause}`);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

let serviceToken = null;
async function getServiceToken(force) {
  if (serviceToken && !force) return serviceToken;
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: config.service.username, domain: { id: 'default' },
        password: config.service.password } } },
      scope: { project: { name: config.service.project, domain: { id: 'default' } } },
    },
  };
  const r = await keystoneFetch(`${config.keystone_url}/auth/tokens`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`service login failed: ${r.status}`);
  serviceToken = r.headers.get('x-subject-token');
  return serviceToken;
}

// The token's body ({token: {...}}) or null when Keystone says it is invalid, expired or revoked.
async function validateToken(userToken) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await keystoneFetch(`${config.keystone_url}/auth/tokens`, {
      // The access-rules header tells Keystone we enforce application credential access rules (otherwise it
      // refuses such tokens), as keystonemiddleware does.
      headers: { 'X-Auth-Token': await getServiceToken(attempt > 0), 'X-Subject-Token': userToken,
        'OpenStack-Identity-Access-Rules': '1.0' },
    });
    if (r.status === 200) return (await r.json()).token;
    if (r.status === 404) return null;
    if (r.status !== 401) throw new Error(`token validation: keystone answered ${r.status}`);
  }
  throw new Error('token validation: service token refused');
}

// keystonemiddleware's check of an application credential's access rules: some rule must name this service,
// method and path ('*' matches one path segment, '**' any number).
function accessRulesAllow(token, method, path) {
  const rules = token.application_credential && token.application_credential.access_rules;
  if (!rules) return true;
  return rules.some((rule) => {
    if (rule.service !== 'compute' || rule.method !== method) return false;
    const pattern = rule.path.split('/').map((seg) => (seg === '**' ? '.*' : seg === '*' ? '[^/]+'
      : seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('/');
    return new RegExp(`^${pattern}$`).test(path);
  });
}

// --- microversions -----------------------------------------------------------------------------------------------
// null = not acceptable; otherwise [major, minor]. Default 2.1 when the client sends none.
function requestedVersion(req) {
  const header = req.headers['openstack-api-version'];
  const legacy = req.headers['x-openstack-nova-api-version'];
  let text = '2.1';
  // Since 2.27 Nova reads OpenStack-API-Version first; older releases only know the legacy header.
  if (header && maxMinor >= 27) {
    const m = /^compute\s+(\S+)$/i.exec(header.trim());
    if (!m) return { error: `Invalid OpenStack-API-Version header '${header}'` };
    text = m[1];
  } else if (legacy) {
    text = legacy.trim();
  }
  if (text === 'latest') return { version: [maxMajor, maxMinor] };
  const m = /^(\d+)\.(\d+)$/.exec(text);
  if (!m) return { error: `Invalid API version request '${text}'` };
  const v = [Number(m[1]), Number(m[2])];
  if (v[0] !== 2 || v[1] < 1 || v[1] > maxMinor) {
    return { notAcceptable: `Version ${text} is not supported by the API. Minimum is 2.1 and maximum is ${maxMajor}.${maxMinor}.` };
  }
  return { version: v };
}

// A fresh console token for `server`, registered with websockify, inside a URL of the requested shape.
function consoleUrl(server, shape, page) {
  const token = crypto.randomUUID();
  fs.writeFileSync(path.join(config.token_dir, token), `${token}: ${server.vnc}\n`);
  return shape === 'token'
    ? `${config.console_base}/${page}?token=${token}`
    : `${config.console_base}/${page}?path=${encodeURIComponent('?token=' + token)}`;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://nova');
  const m = /^\/v2\.1\/servers\/([^/]+)\/(remote-consoles|action)$/.exec(url.pathname);
  if (req.method === 'GET' && (url.pathname === '/v2.1' || url.pathname === '/v2.1/')) {
    return send(res, 200, { version: { id: 'v2.1', status: 'CURRENT', version: `${maxMajor}.${maxMinor}`, min_version: '2.1' } });
  }
  if (!m) return fault(res, 404, 'itemNotFound', 'The resource could not be found.');
  if (req.method !== 'POST') return fault(res, 405, 'computeFault', 'The method specified is not allowed for this resource.');

  // keystonemiddleware runs first: no or bad token is 401 whatever the rest of the request says.
  const userToken = req.headers['x-auth-token'];
  const unauthorized = () => send(res, 401, { error: { code: 401, title: 'Unauthorized',
    message: 'The request you have made requires authentication.' } },
  { 'WWW-Authenticate': `Keystone uri="${config.keystone_url.replace(/\/v3$/, '')}"` });
  if (!userToken) return unauthorized();
  const token = await validateToken(userToken);
  if (!token || !accessRulesAllow(token, req.method, url.pathname)) return unauthorized();
  if (!token.project) return fault(res, 403, 'forbidden', 'Project-scoped token required.');

  const version = requestedVersion(req);
  if (version.error) return fault(res, 400, 'badRequest', version.error);
  if (version.notAcceptable) return fault(res, 406, 'computeFault', version.notAcceptable);
  const versionHeaders = { 'OpenStack-API-Version': `compute ${version.version.join('.')}`,
    'X-OpenStack-Nova-API-Version': version.version.join('.'), Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version' };
  const [, serverId, kind] = m;
  if (kind === 'remote-consoles' && version.version[1] < 6) {
    return fault(res, 404, 'itemNotFound', 'The resource could not be found.', versionHeaders);
  }
  if (!/^application\/json\b/.test(req.headers['content-type'] || '')) {
    return fault(res, 415, 'badMediaType', 'Accept/Content-Type not supported', versionHeaders);
  }
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (e) {
    return fault(res, 400, 'badRequest', 'Malformed request body', versionHeaders);
  }
  const reason = validate(body, kind === 'remote-consoles' ? REMOTE_CONSOLE_SCHEMA : GET_VNC_CONSOLE_SCHEMA);
  if (reason) return fault(res, 400, 'badRequest', reason, versionHeaders);

  // Default policy (Zed): os_compute_api:os-remote-consoles is PROJECT_MEMBER_OR_ADMIN.
  const roles = (token.roles || []).map((r) => r.name);
  if (!roles.includes('member') && !roles.includes('admin')) {
    // Both the 2.6 API and the legacy action are guarded by the same rule in Nova's remote_consoles.py.
    return fault(res, 403, 'forbidden', "Policy doesn't allow os_compute_api:os-remote-consoles to be performed.",
      versionHeaders);
  }
  // Servers of other projects do not exist for this token.
  const server = config.servers[serverId];
  if (!server || server.project_id !== token.project.id) {
    return fault(res, 404, 'itemNotFound', `Instance ${serverId} could not be found.`, versionHeaders);
  }
  if (server.vm_state !== 'active') {
    return fault(res, 409, 'conflictingRequest', `Instance ${serverId} in vm_state ${server.vm_state}. ` +
      'Cannot get_vnc_console while the instance is in this state.', versionHeaders);
  }
  if (kind === 'remote-consoles') {
    const rc = body.remote_console;
    if (rc.protocol !== 'vnc' || rc.type !== 'novnc') {
      return fault(res, 400, 'badRequest', `Unsupported console type ${rc.protocol}/${rc.type}`, versionHeaders);
    }
    log(`remote console for ${serverId}`);
    return send(res, 200, { remote_console: { protocol: 'vnc', type: 'novnc',
      url: consoleUrl(server, config.url_shape || 'path', 'vnc_lite.html') } }, versionHeaders);
  }
  log(`os-getVNCConsole for ${serverId}`);
  return send(res, 200, { console: { type: 'novnc', url: consoleUrl(server, 'token', 'vnc_auto.html') } }, versionHeaders);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    log('error', e.message);
    if (!res.headersSent) fault(res, 500, 'computeFault', 'Unexpected API Error.');
  });
});
server.listen(config.port, '127.0.0.1', () => log(`nova emulator on 127.0.0.1:${config.port}`));
process.on('SIGTERM', () => process.exit(0));
