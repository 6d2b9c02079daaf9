// Preloaded into the conformance CLI (`node --import <this file> …/dist/index.js`)
// by mcp/conformance/run. The CLI has no option for request headers, and
// `taskflow serve` answers /mcp with 401 unless it gets a bearer token.
//
// The CLI sends HTTP three ways: the global `fetch` (the MCP SDK client transport
// and most scenarios), `request` from the `undici` package (dns-rebinding-protection,
// which sets its own Host header), and `http.request` from Node's core
// (http-header-validation, http-custom-header-server-validation, which send raw
// headers). `fetch` and undici take their dispatcher from one global slot, so an
// undici interceptor covers both; `http.request` is wrapped. Both add
// `Authorization: Bearer $TASKFLOW_CONFORMANCE_TOKEN` to requests for the origin
// in $TASKFLOW_CONFORMANCE_ORIGIN that carry no Authorization header, and leave
// every other request and header exactly as the CLI built it.
import http from 'node:http';
import { createRequire } from 'node:module';

const token = process.env.TASKFLOW_CONFORMANCE_TOKEN;
const originEnv = process.env.TASKFLOW_CONFORMANCE_ORIGIN;
if (!token || !originEnv) {
  throw new Error('bearer-auth.mjs needs TASKFLOW_CONFORMANCE_TOKEN and TASKFLOW_CONFORMANCE_ORIGIN');
}
const target = new URL(originEnv).origin;
const value = `Bearer ${token}`;

// Resolve `undici` the way the CLI does: from the CLI's own node_modules.
const require = createRequire(process.argv[1]);
const { Agent, setGlobalDispatcher } = require('undici');

const isAuth = (name) => String(name).toLowerCase() === 'authorization';

// Dispatch headers come as a plain object, a flat [name, value, …] array, pairs, or an iterable.
function withAuth(headers) {
  if (headers == null) return { authorization: value };
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      return headers.some(([name]) => isAuth(name)) ? headers : [...headers, ['authorization', value]];
    }
    for (let i = 0; i < headers.length; i += 2) if (isAuth(headers[i])) return headers;
    return [...headers, 'authorization', value];
  }
  if (typeof headers[Symbol.iterator] === 'function') return withAuth([...headers]);
  return Object.keys(headers).some(isAuth) ? headers : { ...headers, authorization: value };
}

function sameOrigin(origin) {
  try {
    return origin != null && new URL(String(origin)).origin === target;
  } catch {
    return false;
  }
}

const injectBearer = (dispatch) => (opts, handler) =>
  dispatch(sameOrigin(opts.origin) ? { ...opts, headers: withAuth(opts.headers) } : opts, handler);

setGlobalDispatcher(new Agent().compose(injectBearer));

// http.request(options[, callback]) or http.request(url[, options][, callback]).
// The CLI calls it as a property of the module object, so replacing it here takes effect.
const coreRequest = http.request;
http.request = function requestWithBearer(...args) {
  const hasUrl = typeof args[0] === 'string' || args[0] instanceof URL;
  const at = hasUrl ? 1 : 0;
  const given = args[at] !== null && typeof args[at] === 'object' ? args[at] : undefined;
  let origin;
  if (hasUrl) {
    origin = new URL(String(args[0])).origin;
  } else if (given) {
    const host = given.hostname ?? given.host ?? 'localhost';
    origin = `${given.protocol ?? 'http:'}//${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${given.port ?? 80}`;
  }
  if (!sameOrigin(origin)) return coreRequest.apply(this, args);
  const options = { ...(given ?? {}), headers: withAuth(given?.headers) };
  const rest = given ? args.slice(at + 1) : args.slice(at);
  return coreRequest.apply(this, hasUrl ? [args[0], options, ...rest] : [options, ...rest]);
};
