// SPDX-License-Identifier: Apache-2.0
// Shared by the Nova and Proxmox API emulators: config loading, body reading, strict JSON-schema-like checks,
// logging that never prints secrets.
'use strict';
const fs = require('fs');

function loadConfig() {
  const path = process.argv[2];
  if (!path) {
    console.error(`usage: node ${process.argv[1]} CONFIG.json`);
    process.exit(2);
  }
  return JSON.parse(fs.readFileSync(path, 'utf8'));
}

function log(...args) {
  console.log(new Date().toISOString(), ...args);
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else {
        chunks.push(c);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Checks `value` against a tiny schema: {type:'object', properties:{…}, required:[…]} (additionalProperties is
// always false, as in Nova's schemas) or {enum:[…]} / {type:'string'}. Returns '' or a Nova-style reason.
function validate(value, schema, path = '') {
  if (schema.enum) {
    return schema.enum.includes(value) ? '' : `Invalid input for field/attribute ${path}. Value: ${JSON.stringify(value)}. ` +
      `${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`;
  }
  if (schema.type === 'string') return typeof value === 'string' ? '' : `Invalid input for field/attribute ${path}: not a string`;
  if (schema.type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return `Invalid input for field/attribute ${path || 'body'}: not an object`;
    }
    for (const key of Object.keys(value)) {
      if (!(key in schema.properties)) {
        return `Additional properties are not allowed ('${key}' was unexpected)`;
      }
    }
    for (const key of schema.required || []) {
      if (!(key in value)) return `'${key}' is a required property`;
    }
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (key in value) {
        const reason = validate(value[key], sub, key);
        if (reason) return reason;
      }
    }
  }
  return '';
}

module.exports = { loadConfig, log, readBody, validate };
