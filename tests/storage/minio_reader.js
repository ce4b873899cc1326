// SPDX-License-Identifier: Apache-2.0
// The minio npm client as an independent reader: lists a bucket (recursively, optional prefix), downloads
// every object and prints a JSON array of {key, size, sha256}. Usage: node minio_reader.js PORT BUCKET [PREFIX]
'use strict';
const crypto = require('crypto');
const Minio = require('minio');

async function main() {
  const [port, bucket, prefix = ''] = process.argv.slice(2);
  const client = new Minio.Client({
    endPoint: '127.0.0.1', port: Number(port), useSSL: false, pathStyle: true,
    accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1',
  });
  const keys = [];
  await new Promise((resolve, reject) => {
    const stream = client.listObjectsV2(bucket, prefix, true);
    stream.on('data', (o) => keys.push({ key: o.name, size: o.size }));
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  const out = [];
  for (const { key, size } of keys) {
    const hash = crypto.createHash('sha256');
    const body = await client.getObject(bucket, key);
    for await (const chunk of body) hash.update(chunk);
    out.push({ key, size, sha256: hash.digest('hex') });
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
