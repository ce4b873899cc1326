// SPDX-License-Identifier: Apache-2.0
// Signs requests with the minio npm client, an independent SigV4 implementation, so the C++ signer can be
// compared with it. No network: the region is given, so minio never asks the server for it.
// Usage: node minio_sign.js '<json>'; prints a JSON array with one signature per case.
//   json = {accessKey, secretKey, region, date: ISO-8601, host, port,
//           cases: [{kind: "presign", bucket, key, expires}
//                 | {kind: "header", method, path (encoded, with ?query), headers: {...}, payloadHash}]}
'use strict';
const path = require('path');
const Minio = require('minio');
// signV4 is not in the package's public exports; load its file directly (the same code the client uses).
const signing = require(path.join(__dirname, 'node_modules/minio/dist/main/signing.js'));

async function main() {
  const input = JSON.parse(process.argv[2]);
  const date = new Date(input.date);
  const client = new Minio.Client({
    endPoint: input.host, port: input.port, useSSL: false, pathStyle: true,
    accessKey: input.accessKey, secretKey: input.secretKey, region: input.region,
  });
  const out = [];
  for (const c of input.cases) {
    if (c.kind === 'presign') {
      out.push(await client.presignedGetObject(c.bucket, c.key, c.expires, {}, date));
    } else {
      const request = { method: c.method, path: c.path, headers: c.headers };
      out.push(signing.signV4(request, input.accessKey, input.secretKey, input.region, date, c.payloadHash));
    }
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
