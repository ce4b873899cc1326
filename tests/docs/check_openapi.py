#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks docs/openapi.yaml: it parses, is OpenAPI 3.0.3, every $ref resolves, every route of the API contract is
there with its methods and statuses, path parameters are declared, examples match their schemas' required fields.
With openapi-spec-validator installed it also runs the full schema validation.
Usage: check_openapi.py docs/openapi.yaml"""
import sys

import yaml

# The contract (docs/web.md, issues 6 and 7): path -> {method: statuses that must be documented}.
CONTRACT = {
    '/record': {'post': {'202', '400', '401'}},
    '/api/v1/recordings': {'post': {'202', '400', '401'}, 'get': {'200', '401'}},
    '/api/v1/recordings/{id}': {'get': {'200', '404'}, 'delete': {'200', '404'}},
    '/api/v1/recordings/{id}/segments/{n}': {'get': {'200', '206', '404', '416'}},
    '/api/v1/recordings/{id}/segments/{n}/sidecar': {'get': {'200', '404'}},
    '/api/v1/recordings/{id}/thumbnail': {'get': {'200', '404'}},
    '/api/v1/sessions': {'post': {'201', '400'}, 'get': {'200'}, 'delete': {'200'}},
    '/api/v1/sessions/{id}': {'get': {'200', '404'}, 'delete': {'204', '404'}},
    '/api/v1/sessions/{id}/links': {'post': {'201', '404'}},
    '/api/v1/sessions/{id}/text': {'get': {'200', '404', '409'}},
    '/api/v1/sessions/{id}/wait': {'post': {'200', '400', '404', '408', '415'}},
    '/api/v1/recordings/{id}/segments/{n}/transcript': {'get': {'200', '404'}},
    '/api/v1/search': {'get': {'200', '400'}},
    '/console/{token}': {'get': {'200'}},
    '/ws/{token}': {'get': {'101'}},
    '/': {'get': {'200'}},
    '/healthz': {'get': {'200'}},
    '/readyz': {'get': {'200', '503'}},
    '/metrics': {'get': {'200'}},
    '/api/v1/openapi.yaml': {'get': {'200'}},
}
METHODS = {'get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'}


def resolve(doc, ref, problems, where):
    if not ref.startswith('#/'):
        problems.append(f'{where}: external $ref {ref}')
        return None
    node = doc
    for part in ref[2:].split('/'):
        part = part.replace('~1', '/').replace('~0', '~')
        if not isinstance(node, dict) or part not in node:
            problems.append(f'{where}: $ref {ref} does not resolve')
            return None
        node = node[part]
    return node


def walk_refs(doc, node, problems, where='#'):
    if isinstance(node, dict):
        if '$ref' in node:
            resolve(doc, node['$ref'], problems, where)
        for key, value in node.items():
            walk_refs(doc, value, problems, f'{where}/{key}')
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk_refs(doc, value, problems, f'{where}/{i}')


def deref(doc, node, problems):
    while isinstance(node, dict) and '$ref' in node:
        node = resolve(doc, node['$ref'], problems, 'deref')
    return node


def required_fields(doc, schema, problems):
    """Required property names of a schema, following $ref and allOf."""
    schema = deref(doc, schema, problems) or {}
    names = set(schema.get('required', []))
    for part in schema.get('allOf', []):
        names |= required_fields(doc, part, problems)
    return names


def check_examples(doc, problems):
    for path, item in doc['paths'].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status, response in op.get('responses', {}).items():
                response = deref(doc, response, problems) or {}
                for media in response.get('content', {}).values():
                    schema = media.get('schema')
                    samples = [media['example']] if 'example' in media else []
                    samples += [(deref(doc, e, problems) or {}).get('value') for e in media.get('examples', {}).values()]
                    for sample in samples:
                        if isinstance(sample, dict) and schema:
                            missing = required_fields(doc, schema, problems) - set(sample)
                            if missing:
                                problems.append(f'{method.upper()} {path} {status}: example lacks {sorted(missing)}')


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        doc = yaml.safe_load(f)
    problems = []
    if doc.get('openapi') != '3.0.3':
        problems.append(f"openapi is {doc.get('openapi')!r}, not '3.0.3'")
    if 'bearerAuth' not in doc.get('components', {}).get('securitySchemes', {}):
        problems.append('no bearerAuth security scheme')
    walk_refs(doc, doc, problems)
    paths = doc.get('paths', {})
    for path, methods in CONTRACT.items():
        for method, statuses in methods.items():
            op = paths.get(path, {}).get(method)
            if op is None:
                problems.append(f'missing {method.upper()} {path}')
                continue
            missing = statuses - set(str(s) for s in op.get('responses', {}))
            if missing:
                problems.append(f'{method.upper()} {path}: undocumented statuses {sorted(missing)}')
    operation_ids = []
    for path, item in paths.items():
        declared = {p['name'] for p in (deref(doc, p, problems) for p in item.get('parameters', [])) if p and p.get('in') == 'path'}
        for method, op in item.items():
            if method not in METHODS:
                continue
            operation_ids.append(op.get('operationId'))
            names = declared | {p['name'] for p in (deref(doc, p, problems) for p in op.get('parameters', [])) if p and p.get('in') == 'path'}
            for segment in path.split('/'):
                if segment.startswith('{') and segment[1:-1] not in names:
                    problems.append(f'{method.upper()} {path}: path parameter {segment} not declared')
            if not op.get('responses'):
                problems.append(f'{method.upper()} {path}: no responses')
    if None in operation_ids or len(set(operation_ids)) != len(operation_ids):
        problems.append('operationIds missing or not unique')
    check_examples(doc, problems)
    try:
        from openapi_spec_validator import validate
    except ImportError:
        print('note: openapi-spec-validator not installed; structural checks only')
    else:
        try:
            validate(doc)
        except Exception as e:  # the validator's error types differ between versions
            problems.append(f'openapi-spec-validator: {e}'.splitlines()[0][:300])
    for p in problems:
        print('openapi:', p)
    print(f'{len(paths)} paths, {len(operation_ids)} operations, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
