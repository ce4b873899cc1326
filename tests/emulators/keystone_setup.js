// SPDX-License-Identifier: Apache-2.0
// Populates a freshly bootstrapped Keystone for the provider tests through its v3 API (fast; the openstack CLI
// costs ~1.5 s per call): compute service + endpoints, project demo, users demo (member) and viewer (reader),
// application credentials of demo (unrestricted, console-only access rules, list-only access rules). Prints the
// ids as JSON on stdout.
// Usage: node keystone_setup.js KEYSTONE_URL(/v3) ADMIN_PASSWORD NOVA_URL REGION_TWO_NOVA_URL
'use strict';
const [keystone, adminPassword, novaUrl, regionTwoNovaUrl] = process.argv.slice(2);

async function call(method, path, token, body, expect) {
  const r = await fetch(`${keystone}${path}`, {
    method, headers: { 'Content-Type': 'application/json', ...(token ? { 'X-Auth-Token': token } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return { headers: r.headers, json: r.status === 204 ? null : await r.json() };
}

async function login(user, password, project) {
  const r = await call('POST', '/auth/tokens', null, { auth: {
    identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
    scope: { project: { name: project, domain: { id: 'default' } } } } }, 201);
  return r.headers.get('x-subject-token');
}

(async () => {
  const admin = await login('admin', adminPassword, 'admin');
  const service = (await call('POST', '/services', admin, { service: { type: 'compute', name: 'nova' } }, 201)).json.service;
  for (const [iface, region, url] of [['public', 'RegionOne', novaUrl], ['internal', 'RegionOne', novaUrl],
    ['public', 'RegionTwo', regionTwoNovaUrl]]) {
    if (region === 'RegionTwo') await call('POST', '/regions', admin, { region: { id: 'RegionTwo' } }, 201);
    await call('POST', '/endpoints', admin, { endpoint: { service_id: service.id, interface: iface, region_id: region, url } }, 201);
  }
  const project = (await call('POST', '/projects', admin, { project: { name: 'demo', domain_id: 'default' } }, 201)).json.project;
  const roles = (await call('GET', '/roles', admin, null, 200)).json.roles;
  const role = (name) => roles.find((r) => r.name === name).id;
  const users = {};
  for (const [name, roleName] of [['demo', 'member'], ['viewer', 'reader']]) {
    users[name] = (await call('POST', '/users', admin, { user: { name, domain_id: 'default', password: `${name}-pw`,
      default_project_id: project.id } }, 201)).json.user.id;
    await call('PUT', `/projects/${project.id}/users/${users[name]}/roles/${role(roleName)}`, admin, null, 204);
  }
  const demo = await login('demo', 'demo-pw', 'demo');
  const appCred = (await call('POST', `/users/${users.demo}/application_credentials`, demo,
    { application_credential: { name: 'vncgate', description: 'vncgate console access' } }, 201)).json.application_credential;
  // The least-privilege credential of docs/providers.md, and one whose rules do not cover consoles.
  const restricted = async (name, rules) => (await call('POST', `/users/${users.demo}/application_credentials`, demo,
    { application_credential: { name, access_rules: rules } }, 201)).json.application_credential;
  const consoleOnly = await restricted('vncgate-console', [
    { service: 'compute', method: 'POST', path: '/v2.1/servers/*/remote-consoles' },
    { service: 'compute', method: 'POST', path: '/v2.1/servers/*/action' }]);
  const listOnly = await restricted('list-only', [{ service: 'compute', method: 'GET', path: '/v2.1/servers' }]);
  process.stdout.write(JSON.stringify({ project_id: project.id, demo_user_id: users.demo, viewer_user_id: users.viewer,
    app_cred_id: appCred.id, app_cred_secret: appCred.secret,
    console_cred_id: consoleOnly.id, console_cred_secret: consoleOnly.secret,
    list_cred_id: listOnly.id, list_cred_secret: listOnly.secret }) + '\n');
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
