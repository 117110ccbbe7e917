// The HTTP API: the key, one fetch wrapper, errors people can read.

const KEY_STORE = "mien.apiKey";

export function getKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

export function setKey(key) {
  sessionStorage.setItem(KEY_STORE, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORE);
}

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const PREFIX = {
  401: "Key not accepted",
  403: "Not allowed",
  413: "Too large",
  429: "Too many requests",
  503: "Server busy",
};

// What to tell a person about a failed call.
export function describeError(err) {
  if (!(err instanceof ApiError)) return `Error: ${err.message || err}`;
  const prefix = err.code === "model_not_installed" ? "Not installed" : PREFIX[err.status] || `Error ${err.status}`;
  let text = `${prefix}: ${err.message}`;
  if (!/[.!?]$/.test(text)) text += ".";
  if (err.status === 401) text += " Check the key, or forget it and enter another.";
  if (err.code === "consent") text += " Tick the consent box only if the person whose face is used agreed.";
  if (err.code === "quality") text += " To enrol it anyway, tick “enrol photos that fail the quality checks”.";
  const wait = Math.ceil(Number(err.retryAfter));
  if (wait > 0) text += ` Try again in ${wait} s.`;
  return text;
}

async function errorFrom(response) {
  let code = "http_error";
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    } else if (body && body.detail) {
      message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, code, message, response.headers.get("Retry-After"));
}

function fields(form) {
  if (!form) return undefined;
  const data = new FormData();
  for (const [name, value] of Object.entries(form)) {
    if (value === undefined || value === null || value === "") continue;
    const values = Array.isArray(value) ? value : [value];
    for (const one of values) {
      if (one instanceof Blob) data.append(name, one, one.name || `${name}.jpg`);
      else data.append(name, String(one));
    }
  }
  return data;
}

// fetch() with the key; resolves to the Response, throws ApiError on 4xx/5xx.
export async function request(path, { method, form, json, signal, key } = {}) {
  const headers = {};
  const token = key ?? getKey();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method: method || (form || json !== undefined ? "POST" : "GET"),
      headers,
      body: json !== undefined ? JSON.stringify(json) : fields(form),
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "cannot reach the server.");
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function api(path, options) {
  const response = await request(path, options);
  return response.json();
}

// Server-sent events read from a fetch body (EventSource cannot send the key).
export async function* events(path, { signal } = {}) {
  const response = await request(path, { signal });
  if (!response.body) throw new ApiError(0, "stream", "this browser cannot stream the job's events.");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}
