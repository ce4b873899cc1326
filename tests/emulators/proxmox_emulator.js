// SPDX-License-Identifier: Apache-2.0
// Proxmox VE API emulator for vncgate's tests: ticket login, API tokens, CSRF, privilege checks, strict
// parameter schemas, vncproxy/vncshell and vncwebsocket, with Proxmox's answer shapes (messages in the HTTP
// reason phrase, {"data": …} bodies, {"errors": …} for bad parameters). Consoles are real: each vncproxy sets a
// one-time VNC password on a QEMU guest over QMP and opens a "port" that accepts one WebSocket connection
// within port_ttl_ms, relayed to the guest's VNC server.
//
// Config (JSON file, argv[2]): {port, tls: {cert, key} (omit for plain HTTP), qmp_socket, vnc_port, node,
//   guests: {qemu: {VMID: "running"|"stopped"}, lxc: {VMID: …}},
//   users: {"root@pam": {password, privs: [...]}}, tokens: {"USER@REALM!ID": {secret, privs: [...]}},
//   port_ttl_ms (10000), ticket_ttl_ms (7200000: Proxmox tickets last two hours)}
'use strict';
const http = require('http');
const https = require('https');
const net = require('net');
const fs = require('fs');
const crypto = require('crypto');
const { loadConfig, log, readBody } = require('./common');
const { acceptUpgrade, relay } = require('./websocket_server');

const config = loadConfig();
const portTtl = config.port_ttl_ms || 10000;
const ticketTtl = config.ticket_ttl_ms || 7200000;
const tickets = new Map();   // PVEAuthCookie ticket -> {user, csrf, expires}
const vncPorts = new Map();  // port -> {ticket, path, authid, expires, used}
let nextPort = 5900;

class ApiError extends Error {
  constructor(status, message, errors) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

function reply(res, status, message, data, errors) {
  const body = JSON.stringify(errors ? { errors, data: null } : { data });
  res.writeHead(status, message, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// --- QMP: one command at a time on the emulator's own monitor socket -----------------------------------------------
let qmpQueue = Promise.resolve();
function qmp(command) {
  const run = () => new Promise((resolve, reject) => {
    const sock = net.connect(config.qmp_socket);
    let buffered = '';
    let stage = 0;
    sock.on('data', (chunk) => {
      buffered += chunk.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (line.event) continue;
        if (stage === 0 && line.QMP) {
          stage = 1;
          sock.write('{"execute":"qmp_capabilities"}\n');
        } else if (stage === 1 && 'return' in line) {
          stage = 2;
          sock.write(JSON.stringify(command) + '\n');
        } else if (stage === 2) {
          sock.end();
          if (line.error) reject(new Error(line.error.desc)); else resolve(line.return);
        }
      }
    });
    sock.on('error', reject);
  });
  qmpQueue = qmpQueue.then(run, run);
  return qmpQueue;
}

// --- authentication and permissions -------------------------------------------------------------------------------
function cookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

// {authid, privs} of the caller; POSTs with a ticket need the CSRF token issued with it.
function authenticate(req) {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^PVEAPIToken=([^@!=\s]+@[^@!=\s]+![^=\s]+)=(\S+)$/.exec(auth);
    if (!m) throw new ApiError(401, 'invalid token value!');
    const token = config.tokens[m[1]];
    const given = Buffer.from(m[2]);
    if (!token || given.length !== Buffer.byteLength(token.secret) || !crypto.timingSafeEqual(given, Buffer.from(token.secret))) {
      throw new ApiError(401, 'invalid token value!');
    }
    return { authid: m[1], privs: token.privs };
  }
  const ticket = cookie(req, 'PVEAuthCookie');
  if (!ticket) throw new ApiError(401, 'No ticket');
  const session = tickets.get(ticket);
  if (!session || Date.now() > session.expires) throw new ApiError(401, 'invalid PVE ticket');
  if (req.method !== 'GET' && req.headers.csrfpreventiontoken !== session.csrf) {
    throw new ApiError(401, 'Permission denied - invalid csrf token');
  }
  return { authid: session.user, privs: config.users[session.user].privs };
}

function requirePriv(caller, path, priv) {
  if (!caller.privs.includes(priv)) throw new ApiError(403, `Permission check failed (${path}, ${priv})`);
}

// --- parameters: form or JSON bodies, checked against a schema with no additional properties ------------------------
const BOOLEAN = /^(0|1|true|false|yes|no|on|off)$/i;
const isTrue = (v) => /^(1|true|yes|on)$/i.test(String(v));
async function params(req, schema) {
  const text = await readBody(req);
  let values = {};
  if (/^application\/json/.test(req.headers['content-type'] || '')) values = text ? JSON.parse(text) : {};
  else for (const [k, v] of new URLSearchParams(text)) values[k] = v;
  const errors = {};
  for (const [k, v] of Object.entries(values)) {
    if (!(k in schema)) errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
    else if (!schema[k].test(String(v))) errors[k] = `value '${v}' does not have a valid format`;
  }
  if (Object.keys(errors).length) throw new ApiError(400, 'Parameter verification failed.', errors);
  return values;
}

// --- console routes ------------------------------------------------------------------------------------------------
// Path -> {kind: qemu|lxc|node, vmid, aclPath, priv}; throws 500 like Proxmox for unknown guests.
function consoleTarget(node, kind, vmid) {
  if (node !== config.node) throw new ApiError(500, `hostname lookup '${node}' failed - failed to get address info for: ${node}`);
  if (kind === 'node') return { kind, aclPath: `/nodes/${node}`, priv: 'Sys.Console' };
  const state = (config.guests[kind] || {})[vmid];
  if (!state) {
    throw new ApiError(500, `Configuration file 'nodes/${node}/${kind === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf' does not exist`);
  }
  if (state !== 'running') throw new ApiError(500, kind === 'qemu' ? `VM ${vmid} not running` : `CT ${vmid} not running`);
  return { kind, vmid, aclPath: `/vms/${vmid}`, priv: 'VM.Console' };
}

const SCHEMAS = {
  qemu: { websocket: BOOLEAN, 'generate-password': BOOLEAN },
  lxc: { websocket: BOOLEAN, width: /^\d+$/, height: /^\d+$/ },
  node: { websocket: BOOLEAN, cmd: /^(ceph_install|upgrade|login)$/, 'cmd-opts': /^.*$/, width: /^\d+$/, height: /^\d+$/ },
};

async function vncproxy(req, res, node, kind, vmid) {
  const caller = authenticate(req);
  const target = consoleTarget(node, kind, vmid);
  requirePriv(caller, target.aclPath, target.priv);
  const p = await params(req, SCHEMAS[kind]);
  if (!isTrue(p.websocket)) throw new ApiError(400, 'this emulator serves websocket=1 consoles only');
  const ticket = `PVEVNC:${Math.floor(Date.now() / 1000).toString(16).toUpperCase()}::${crypto.randomBytes(32).toString('base64')}`;
  const password = kind === 'qemu' && isTrue(p['generate-password'] || 0) ? crypto.randomBytes(6).toString('base64').slice(0, 8) : null;
  // QEMU compares the first 8 bytes (DES key); vncterm-style consoles take the ticket as the password.
  await qmp({ execute: 'change-vnc-password', arguments: { password: (password || ticket).slice(0, 8) } });
  const port = nextPort++;
  vncPorts.set(port, { ticket, path: `${node}/${kind}/${vmid || ''}`, authid: caller.authid, expires: Date.now() + portTtl, used: false });
  log(`${kind === 'node' ? 'vncshell' : 'vncproxy'} ${node}/${kind}/${vmid || ''} for ${caller.authid}: port ${port}`);
  const data = { cert: '-----BEGIN CERTIFICATE-----\n(emulated)\n-----END CERTIFICATE-----\n', port: String(port), ticket,
    upid: `UPID:${node}:0000${port.toString(16).toUpperCase()}:00000000:${Math.floor(Date.now() / 1000).toString(16).toUpperCase()}:vncproxy:${vmid || ''}:${caller.authid}:`,
    user: caller.authid.split('!')[0] };
  if (password) data.password = password;
  reply(res, 200, 'OK', data);
}

async function login(req, res) {
  const p = await params(req, { username: /^\S+$/, password: /^.*$/, realm: /^\S+$/, otp: /^.*$/, 'new-format': BOOLEAN });
  const user = p.username && !p.username.includes('@') && p.realm ? `${p.username}@${p.realm}` : p.username;
  const entry = config.users[user];
  if (!entry || entry.password !== p.password) throw new ApiError(401, 'authentication failure');
  const stamp = Math.floor(Date.now() / 1000).toString(16).toUpperCase();
  const ticket = `PVE:${user}:${stamp}::${crypto.randomBytes(48).toString('base64')}`;
  const csrf = `${stamp}:${crypto.randomBytes(24).toString('base64').replace(/=+$/, '')}`;
  tickets.set(ticket, { user, csrf, expires: Date.now() + ticketTtl });
  reply(res, 200, 'OK', { username: user, ticket, CSRFPreventionToken: csrf, cap: {} });
}

async function handle(req, res) {
  const url = new URL(req.url, 'https://pve');
  let m;
  if (req.method === 'POST' && url.pathname === '/api2/json/access/ticket') return login(req, res);
  if (req.method === 'POST' && (m = /^\/api2\/json\/nodes\/([^/]+)\/(qemu|lxc)\/(\d+)\/vncproxy$/.exec(url.pathname))) {
    return vncproxy(req, res, m[1], m[2], m[3]);
  }
  if (req.method === 'POST' && (m = /^\/api2\/json\/nodes\/([^/]+)\/vncshell$/.exec(url.pathname))) {
    return vncproxy(req, res, m[1], 'node', null);
  }
  throw new ApiError(501, `Method '${req.method} ${url.pathname}' not implemented`);
}

function onUpgrade(req, socket, head) {
  const refuse = (status, message) => {
    log(`vncwebsocket refused: ${status} ${message}`);
    socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  try {
    const url = new URL(req.url, 'https://pve');
    const m = /^\/api2\/json\/nodes\/([^/]+)(?:\/(qemu|lxc)\/(\d+))?\/vncwebsocket$/.exec(url.pathname);
    if (!m) return refuse(501, 'not implemented');
    const caller = authenticate(req);
    const kind = m[2] || 'node';
    const target = consoleTarget(m[1], kind, m[3]);
    requirePriv(caller, target.aclPath, target.priv);
    const protocols = (req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim());
    if (!protocols.includes('binary')) return refuse(400, 'missing websocket subprotocol binary');
    const port = Number(url.searchParams.get('port'));
    const entry = vncPorts.get(port);
    if (!entry || entry.ticket !== url.searchParams.get('vncticket') || entry.path !== `${m[1]}/${kind}/${m[3] || ''}`) {
      return refuse(403, 'permission denied - invalid vnc ticket');
    }
    // The one-shot VNC port has been taken or has timed out: nothing listens there any more.
    if (entry.used || Date.now() > entry.expires) {
      return refuse(502, `connection to VNC port ${port} failed (already used or expired)`);
    }
    entry.used = true;
    const tcp = net.connect(config.vnc_port, '127.0.0.1', () => {
      if (!acceptUpgrade(req, socket, 'binary')) return tcp.destroy();
      log(`vncwebsocket ${m[1]}/${kind}/${m[3] || ''} port ${port} open`);
      relay(socket, tcp, head);
    });
    tcp.on('error', () => refuse(502, 'VNC target unreachable'));
  } catch (e) {
    refuse(e.status || 500, e.message);
  }
}

const handler = (req, res) => {
  handle(req, res).catch((e) => {
    if (!(e instanceof ApiError)) log('error', e.stack);
    if (!res.headersSent) reply(res, e.status || 500, e.message, null, e.errors);
  });
};
const server = config.tls
  ? https.createServer({ cert: fs.readFileSync(config.tls.cert), key: fs.readFileSync(config.tls.key) }, handler)
  : http.createServer(handler);
server.on('upgrade', onUpgrade);
server.listen(config.port, '127.0.0.1', () => log(`proxmox emulator on 127.0.0.1:${config.port}`));
process.on('SIGTERM', () => process.exit(0));
