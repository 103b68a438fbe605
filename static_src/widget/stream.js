// ------------------------------------------------------------------ SSE over fetch

function createSSEParser(onEvent) {
  var buffer = "";
  function dispatch(block) {
    var name = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return; // comment / keep-alive ping
      var colon = line.indexOf(":");
      var field = colon === -1 ? line : line.slice(0, colon);
      var value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    });
    if (data.length) onEvent(name, data.join("\n"));
  }
  return function feed(chunk) {
    buffer += chunk;
    // Normalise line endings, keeping a trailing "\r" until we know whether "\n" follows.
    var tail = buffer.slice(-1) === "\r" ? "\r" : "";
    buffer = buffer.slice(0, buffer.length - tail.length).replace(/\r\n?/g, "\n") + tail;
    var idx;
    while ((idx = buffer.indexOf("\n\n")) !== -1) {
      var block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      dispatch(block);
    }
  };
}

function ChatError(kind, message, status, retryAfter) {
  this.name = "ChatError";
  this.kind = kind;
  this.message = message;
  this.status = status || 0;
  this.retryAfter = retryAfter || null;
}
ChatError.prototype = Object.create(Error.prototype);

/**
 * The server's sentence (an error body's or error event's `error`) for the person in front of
 * the widget: by its type, the texts' translation (English: the server's own words, i18n.js),
 * with the numbers it needs from `details`; a type the widget does not know (or an
 * invalid_request other than a too long message: the site's code, not the visitor) keeps the
 * server's words. streamed: an error event (a conflict there is a conversation deleted while
 * the answer was written, not one still answering). "" when the server gave no sentence.
 */
function serverSentence(error, t, streamed) {
  var message = error && typeof error.message === "string" ? error.message : "";
  if (!message) return "";
  var details = error.details || {};
  var key = {
    not_found: "errorNotFound",
    permission_denied: "errorPermission",
    conflict: streamed ? "errorNotStored" : "errorBusy",
    payload_too_large: "errorTooLarge",
    upstream_error: "errorUpstream",
    authentication_failed: "errorRevoked",
    internal_error: "errorInternal",
    invalid_request: details.max_input_chars > 0 ? "errorTooLong" : null,
  }[error.type];
  return key ? t(key, { message: message, max: details.max_input_chars }) : message;
}

/** A sentence for the person in front of the widget, from an HTTP status and error body; t: the
 * widget's texts (i18n.js; English by default). */
function describeError(status, body, retryAfter, api, t) {
  t = t || ENGLISH;
  var error = body && body.error;
  var serverMessage = serverSentence(error, t, false);
  if ((status === 404 || status === 405) && !serverMessage) {
    // Not the chat server's (its errors are JSON): widget.js hosted without data-api, say.
    return t(api ? "notFoundAt" : "notFound", { api: api, status: status });
  }
  if (status === 401) {
    return t("keyInvalid");
  }
  if (status === 403) {
    return serverMessage ? t("refused", { reason: serverMessage }) : t("refusedSite");
  }
  if (status === 404) return serverMessage;
  if (status === 429) {
    var seconds = parseInt(retryAfter, 10);
    // The key's limits (messages per minute, answers at once) are shared by all of the
    // site's visitors, so this is rarely the visitor's own doing.
    return seconds > 0 ? t("tooMany", { seconds: seconds }) : t("tooManyMoment");
  }
  if (TRANSIENT_STATUSES[status]) return t("unavailable");  // (the server's own words are for its staff)
  if (status >= 500) {
    return t("serverProblem", { status: status });
  }
  return serverMessage || t("requestFailed", { status: status });
}

// A gateway's or the server's "briefly down" (502, a 503 `unavailable` with Retry-After, 504):
// a transient failure, not a refusal.
var TRANSIENT_STATUSES = { 502: 1, 503: 1, 504: 1 };

var cspBlocked = {};  // origins the page's CSP refused (its fetch fails as when offline)
document.addEventListener("securitypolicyviolation", function (event) {
  if (!/^(connect|default)-src/.test(event.effectiveDirective || event.violatedDirective || "")) return;
  try { cspBlocked[new URL(event.blockedURI).origin] = true; } catch (e) { /* not a URL */ }
});

/**
 * A failed fetch is the page's CSP, the network, a CORS refusal (the server refuses a key it
 * does not know or one used from an origin it does not allow, and the browser hides that
 * response from us) or a gateway's error page (a proxy's 502/503/504 carries no CORS header:
 * the chat server is briefly down). Up to three probes tell them apart, so that an outage does
 * not read as the site being refused (which disables the widget's input):
 * 1. POST /v1/chat with the same key (`headers`) and an empty body: the server's 400, readable
 *    (CORS headers: the key and site are allowed), says the failure was the way there (a blip,
 *    a restart): "unavailable". It stores nothing (one rate-limit hit). A readable 401, 403 or
 *    other refusal is the answer itself.
 * 2. GET /v1/health, which any origin may read: the chat server answers yet refused 1, so it
 *    refuses this key or site: "origin". Another status (a gateway's, readable): "unavailable".
 * 3. The same, opaque (no-cors): something answers but not the chat server (a gateway's error
 *    page, or a server from before 2 was readable): "unavailable". Nothing: the network, or the
 *    page's CSP (its violation event comes a task after the failure).
 * t: the widget's texts (i18n.js; English by default).
 */
function explainFetchFailure(api, headers, t) {
  t = t || ENGLISH;
  function unavailable(status, retryAfter) {
    return new ChatError("unavailable", t("unavailable"), status, retryAfter);
  }
  function opaque() {
    return fetch(api + "/v1/health", { mode: "no-cors", credentials: "omit", cache: "no-store" }).then(
      function () { return unavailable(0, null); },
      function () {
        return new Promise(function (resolve) { window.setTimeout(resolve, 0); }).then(function () {
          var origin = new URL(api).origin;
          if (!cspBlocked[origin]) return new ChatError("network", t("network"));
          if (window.console) window.console.warn("Chatbot widget: this page's Content-Security-Policy " +
            "blocks the chat server " + origin + ". If you run this site, allow it in connect-src.");
          return new ChatError("csp", t("csp"));
        });
      }
    );
  }
  function health() {
    return fetch(api + "/v1/health", { mode: "cors", credentials: "omit", cache: "no-store" }).then(
      function (response) {
        // The browser hides the refused response, so an invalid key looks the same from here.
        if (response.ok) return new ChatError("origin", t("originRefused", { origin: window.location.origin }), 403);
        return unavailable(response.status, response.headers.get("Retry-After"));
      },
      opaque
    );
  }
  return fetch(api + "/v1/chat", {
    method: "POST", headers: headers, body: "{}", mode: "cors", credentials: "omit", cache: "no-store",
  }).then(
    function (response) {
      var retryAfter = response.headers.get("Retry-After");
      if (response.status !== 401 && response.status !== 403) return unavailable(response.status, retryAfter);
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = JSON.parse(text); } catch (e) { /* not JSON */ }
        return new ChatError("http", describeError(response.status, parsed, retryAfter, api, t), response.status, retryAfter);
      });
    },
    health
  );
}

// Stalled: no byte (a keep-alive ping is one) for 3 of the ping intervals the server announces
// in X-SSE-Ping-Seconds (0: it sends none; until it answers, its default of 15 s).
var STALL_PINGS = 3, DEFAULT_PING_SECONDS = 15;

/**
 * POST /v1/chat with stream: true and call handlers.onEvent(name, data) per SSE event.
 * Resolves when the stream ends; rejects with a ChatError (kind: http, network, unavailable,
 * origin, csp, aborted, stalled, stream). options.texts: the widget's texts (i18n.js), for them.
 */
function streamChat(options, handlers) {
  var t = options.texts || ENGLISH;
  var headers = {
    "Content-Type": "application/json",
    Accept: "text/event-stream",
    Authorization: "Bearer " + options.key,
  };
  if (options.headers) {
    Object.keys(options.headers).forEach(function (name) { headers[name] = options.headers[name]; });
  }
  var body = { bot: options.bot, message: options.message, stream: true };
  if (options.conversationId) body.conversation_id = options.conversationId;
  if (options.scope) body.scope = options.scope;
  if (options.user) body.user = options.user;
  if (options.metadata) body.metadata = options.metadata;

  var sawEnd = false;
  // Stop (options.signal) aborts the request, and so does the stall timer `alive` re-arms.
  var controller = new AbortController(), stalled = false, timer = 0;
  function alive(seconds) {
    window.clearTimeout(timer);
    if (seconds > 0) timer = window.setTimeout(function () { stalled = true; controller.abort(); }, seconds * STALL_PINGS * 1000);
  }
  function aborted() {
    return stalled ? new ChatError("stalled", t("stalled")) : new ChatError("aborted", t("stopped"));
  }
  if (options.signal) {
    if (options.signal.aborted) controller.abort();
    options.signal.addEventListener("abort", function () { controller.abort(); });
  }
  alive(DEFAULT_PING_SECONDS);
  return fetch(options.api + "/v1/chat", {
    method: "POST",
    headers: headers,
    body: JSON.stringify(body),
    signal: controller.signal,
    credentials: "omit",
    mode: "cors",
    cache: "no-store",
  }).then(
    function (response) {
      if (!response.ok) {
        var retryAfter = response.headers.get("Retry-After");
        return response.text().then(function (text) {
          var parsed = null;
          try { parsed = JSON.parse(text); } catch (e) { /* not JSON */ }
          throw new ChatError("http", describeError(response.status, parsed, retryAfter, options.api, t), response.status, retryAfter);
        });
      }
      if (!response.body || !response.body.getReader) {
        throw new ChatError("stream", t("noStream"));
      }
      var ping = parseFloat(response.headers.get("X-SSE-Ping-Seconds"));
      if (!(ping >= 0)) ping = DEFAULT_PING_SECONDS;
      alive(ping);
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var feed = createSSEParser(function (name, raw) {
        var data;
        try { data = JSON.parse(raw); } catch (e) { return; }
        if (name === "end") sawEnd = true;
        handlers.onEvent(name, data);
      });
      function pump() {
        return reader.read().then(function (step) {
          if (step.done) {
            feed(decoder.decode() + "\n\n");
            if (!sawEnd && !handlers.failed) {
              throw new ChatError("stream", t("cutOff"));
            }
            return;
          }
          alive(ping);
          feed(decoder.decode(step.value, { stream: true }));
          return pump();
        });
      }
      return pump().catch(function (err) {
        if (err instanceof ChatError) throw err;
        if (err && err.name === "AbortError") throw aborted();
        throw new ChatError("stream", t("lost"));
      });
    },
    function (err) {
      if (err && err.name === "AbortError") throw aborted();
      return explainFetchFailure(options.api, headers, t).then(function (chatError) { throw chatError; });
    }
  ).then(function () { alive(0); }, function (err) {
    alive(0);
    if (err instanceof ChatError) throw err;
    if (err && err.name === "AbortError") throw aborted();
    throw new ChatError("network", t("network"));
  });
}

/** Error events that sending the same question again cannot get past (the key was revoked
 * mid-answer, the bot or scope is gone, the request itself is refused): no Retry. */
var FINAL_ERRORS = { authentication_failed: 1, permission_denied: 1, not_found: 1, invalid_request: 1 };

/** Worth sending again: a dropped or stalled answer, the server's or the model's failure, a
 * conversation still answering (409 with Retry-After; without, its bot was deleted). */
function retryable(err) {
  if (err.kind === "http") return err.status >= 500 || err.status === 429 || (err.status === 409 && !!err.retryAfter);
  return err.kind === "stream" || err.kind === "stalled" || err.kind === "network" || err.kind === "unavailable";
}

/** The chat service briefly out of reach (a gateway's or the server's 502/503/504, or the way
 * there failing while the key and site are fine): sent again by itself, AUTO_RETRIES times. */
function transient(err) {
  return err.kind === "network" || err.kind === "unavailable" || (err.kind === "http" && !!TRANSIENT_STATUSES[err.status]);
}

var AUTO_RETRIES = 2;  // then the Retry button alone: never a loop
var AUTO_RETRY_SECONDS = { fallback: 3, min: 1, max: 30 };  // Retry-After, within these bounds

/** Seconds before sending again after `err`: its Retry-After (seconds) within the bounds. */
function retryDelay(err) {
  var seconds = parseInt(err.retryAfter, 10);
  if (!(seconds >= 0)) seconds = AUTO_RETRY_SECONDS.fallback;
  return Math.min(AUTO_RETRY_SECONDS.max, Math.max(AUTO_RETRY_SECONDS.min, seconds));
}

/** A transient failure's sentence while its automatic retry waits (t: the widget's texts). */
function autoRetryNote(err, seconds, t) {
  return (t || ENGLISH)(err.kind === "network" ? "autoRetryNetwork" : "autoRetryUnavailable", { seconds: seconds });
}
