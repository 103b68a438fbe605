/*
 * Playground: chat with a tenant's bots using an API key kept in sessionStorage.
 * Uses the widget's safe Markdown renderer and SSE client (window.ChatbotWidget from widget.js);
 * nothing from the API is ever inserted as HTML. This file holds the page's state, the connection,
 * the list of past conversations and the events; playground_messages.js (message views,
 * inspector) and playground_chat.js (sending, streaming) are loaded before it.
 */
(function () {
  "use strict";

  var kit = window.ChatbotWidget;
  var pg = window.ChatbotPlayground;
  var KEY_STORAGE = "chatbot:playground:key";
  var root = document.getElementById("playground");
  if (!root || !kit || !pg) return;
  var api = (root.getAttribute("data-api") || window.location.origin).replace(/\/+$/, "");

  function $(id) { return document.getElementById(id); }
  var ui = {
    keyForm: $("pg-key-form"), key: $("pg-key"), forget: $("pg-forget"), authError: $("pg-auth-error"),
    keyRow: $("pg-key-row"), connectedAs: $("pg-connected-as"),
    tenant: $("pg-tenant"), tenantField: $("pg-tenant-field"), app: $("pg-app"), bot: $("pg-bot"), scope: $("pg-scope"), newConv: $("pg-new"),
    conversations: $("pg-conversations"), more: $("pg-more"), convTitle: $("pg-conversation-title"),
    messages: $("pg-messages"), empty: $("pg-empty"), chatError: $("pg-chat-error"), form: $("pg-form"),
    input: $("pg-input"), send: $("pg-send"), stop: $("pg-stop"), timings: $("pg-timings"), chunks: $("pg-chunks"),
    announcer: $("pg-announcer"), noChat: $("pg-no-chat"),
  };

  var state = {
    key: null,
    session: null,
    tenant: null,
    bots: [],
    conversationId: null,
    conversationUser: null,  // an opened conversation's end user ("" for none): its chats name it
    nextCursor: null,
    controller: null,
    selected: null,
    canChat: true,
  };

  var el = kit.el;  // the widget's DOM builder (text as text, never HTML)

  function readKey() {
    try { return window.sessionStorage.getItem(KEY_STORAGE); } catch (e) { return null; }
  }
  function writeKey(value) {
    try {
      if (value) window.sessionStorage.setItem(KEY_STORAGE, value);
      else window.sessionStorage.removeItem(KEY_STORAGE);
    } catch (e) { /* private mode: keep it in memory only */ }
  }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  /** Said once by the page's status region (the conversation itself is no live region). */
  function announce(message) {
    ui.announcer.textContent = message || "";
  }

  /** Whether the credential may chat, from GET /v1/openai/models (the bots it may chat with),
   * which refuses a credential without the chat permission (403). Any other failure: let a
   * question say what is wrong. */
  function chatAllowed() {
    return request("GET", "/v1/openai/models").then(function () { return true; }, function (err) {
      return err.status !== 403;
    });
  }

  var askText = ui.empty.textContent;  // the empty conversation's invitation, for a chat key

  /** A credential that may read but not chat browses conversations, told so up front.
   * refused: the sentence when the credential stopped working altogether (a 401 mid-session). */
  function setCanChat(can, refused) {
    state.canChat = can;
    ui.input.disabled = ui.send.disabled = !can;
    if (!can) {  // feedback is chat's: the answers' buttons already on screen go with the input
      Array.prototype.forEach.call(ui.messages.querySelectorAll(".pg-fb"), function (b) { b.disabled = true; });
    }
    var who = state.session ? "Your account" : "This key";
    ui.input.placeholder = can ? "Ask something\u2026" : refused ? who + " no longer works" :
      state.session ? "You cannot chat here" : "This key cannot chat";
    ui.noChat.textContent = can ? "" : refused || (state.session ? "Your account cannot chat in this tenant" :
      "This key cannot chat (it lacks the chat permission)") + ": you can browse past conversations " +
      "but not ask questions. To chat, connect with a key that has the chat and read permissions.";
    ui.noChat.hidden = can;
    ui.empty.textContent = can ? askText : refused ? "" : who + " can read this tenant's conversations: " +
      "pick one from the list to read it, then click an answer to inspect its sources and timings.";
  }

  /** A 401 in the playground's words (the widget's sentence talks to a site's owner). */
  function unusableCredential() {
    return state.session ?
      "Your playground session token expired or is no longer valid; reload the page to get a fresh one." :
      "This key is invalid, revoked or expired; check it (or create one) and connect again.";
  }

  /** JSON request to /v1/; rejects with an Error whose message is a sentence for the user. */
  function request(method, path, body) {
    var headers = { Accept: "application/json", Authorization: "Bearer " + state.key };
    if (state.tenant) headers["X-Tenant"] = state.tenant;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (!response.ok) {
          var message = response.status === 401 ? unusableCredential() :
            kit.describeError(response.status, data, response.headers.get("Retry-After"));
          var err = new Error(message);
          err.status = response.status;
          throw err;
        }
        return data;
      });
    }, function () {
      throw new Error("Could not reach the API. Check that the server is running.");
    });
  }

  function fmtDate(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  // ---------------------------------------------------------------- connect

  function connect(key, viaSession) {
    state.key = key;
    showError(ui.authError, "");
    ui.keyForm.setAttribute("aria-busy", "true");
    return Promise.all([request("GET", "/v1/bots?limit=100"), request("GET", "/v1/scopes?limit=100"), chatAllowed()])
      .then(function (results) {
        if (!viaSession) writeKey(key);
        setCanChat(results[2]);
        state.bots = (results[0] && results[0].data) || [];
        fillSelect(ui.bot, state.bots, null);
        fillSelect(ui.scope, (results[1] && results[1].data) || [], "Bot's default scope");
        ui.key.value = "";
        ui.keyRow.hidden = true;
        if (viaSession) {
          var until = new Date(state.session.expires_at * 1000);
          ui.connectedAs.replaceChildren(el("span", null, [
            "Signed in as ", el("strong", { text: state.session.user }),
            " (staff session; its token is valid until " +
              until.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ").",
          ]));
        } else {
          ui.connectedAs.replaceChildren(
            el("span", null, ["Connected with key ", el("code", { text: key.slice(0, 10) + "\u2026" }), " (kept in this tab only)."])
          );
          ui.connectedAs.appendChild(ui.forget);
          ui.forget.hidden = false;
        }
        ui.connectedAs.hidden = false;
        ui.app.hidden = false;
        root.classList.add("pg-connected");
        if (!state.bots.length) {
          showError(ui.chatError, "This tenant has no bots yet (or this key may not use any). Create one in the admin or via POST /v1/bots.");
        }
        newConversation();
        loadConversations(false);
      })
      .catch(function (err) {
        state.key = null;
        if (!viaSession) writeKey(null);
        state.session = null;
        state.tenant = null;
        var message = err.message;
        if (err.status === 403) message += " The playground needs a key with the read and chat permissions.";
        showError(ui.authError, message);
      })
      .then(function () { ui.keyForm.removeAttribute("aria-busy"); });
  }

  function fillSelect(select, items, emptyLabel) {
    select.replaceChildren();
    if (emptyLabel !== null) select.appendChild(el("option", { value: "", text: emptyLabel }));
    items.forEach(function (item) {
      select.appendChild(el("option", { value: item.slug || item.id, text: (item.name || item.slug) + " (" + item.slug + ")" }));
    });
  }

  function currentBot() {
    var slug = ui.bot.value;
    return state.bots.filter(function (b) { return b.slug === slug; })[0] || null;
  }

  // ---------------------------------------------------------------- conversations

  function loadConversations(append) {
    var path = "/v1/conversations?limit=20" + (append && state.nextCursor ? "&cursor=" + encodeURIComponent(state.nextCursor) : "");
    return request("GET", path).then(function (page) {
      if (!append) ui.conversations.replaceChildren();
      state.nextCursor = page.next || null;
      ui.more.hidden = !state.nextCursor;
      var rows = page.data || [];
      if (!rows.length && !append) {
        ui.conversations.appendChild(el("li", { className: "pg-muted", text: "No conversations yet." }));
      }
      rows.forEach(function (c) {
        var botLabel = c.bot_slug || (typeof c.bot === "object" && c.bot ? (c.bot.slug || c.bot.name) : botSlug(c.bot));
        var button = el("button", { type: "button", className: "pg-conv", "data-id": c.id }, [
          el("span", { className: "pg-conv-title", text: c.title || "Untitled conversation" }),
          el("span", { className: "pg-conv-meta", text: [botLabel, (c.message_count || 0) + " messages", fmtDate(c.updated_at || c.created_at)].filter(Boolean).join(" · ") }),
        ]);
        if (c.id === state.conversationId) button.setAttribute("aria-current", "true");
        button.addEventListener("click", function () { openConversation(c.id); });
        ui.conversations.appendChild(el("li", null, [button]));
      });
    }).catch(function (err) {
      ui.conversations.replaceChildren(el("li", { className: "pg-error", text: err.message }));
    });
  }

  function botSlug(id) {
    var bot = state.bots.filter(function (b) { return b.id === id || b.slug === id; })[0];
    return bot ? bot.slug : "";
  }

  function markCurrentConversation() {
    Array.prototype.forEach.call(ui.conversations.querySelectorAll(".pg-conv"), function (b) {
      if (b.getAttribute("data-id") === state.conversationId) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
  }

  function openConversation(id) {
    abortStream();
    showError(ui.chatError, "");
    return request("GET", "/v1/conversations/" + encodeURIComponent(id)).then(function (conv) {
      state.conversationId = conv.id;
      state.conversationUser = conv.user || "";
      ui.convTitle.textContent = conv.title || "Conversation";
      var slug = conv.bot ? (typeof conv.bot === "object" ? conv.bot.slug : botSlug(conv.bot)) : null;
      if (slug) ui.bot.value = slug;
      ui.messages.replaceChildren();
      (conv.messages || []).forEach(function (m) {
        if (m.role === "user") {
          addUser(m.content);
        } else {
          var view = addAssistant();
          view.text = m.content || "";
          view.setCitations(m.citations || []);
          view.render();
          view.setMessageId(m.id);
          view.setFeedback(feedbackRating(m.feedback));
          view.setMeta({ latency: m.latency_ms, usage: m.usage, finish: m.finish_reason, model: m.model });
        }
      });
      markCurrentConversation();
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }).catch(function (err) { showError(ui.chatError, err.message); });
  }

  function feedbackRating(feedback) {
    if (!feedback) return null;
    if (typeof feedback === "string") return feedback;
    return feedback.rating || null;
  }

  function newConversation() {
    abortStream();
    state.conversationId = null;
    state.conversationUser = null;
    ui.convTitle.textContent = "New conversation";
    ui.messages.replaceChildren(ui.empty);
    ui.empty.hidden = false;
    showError(ui.chatError, "");
    markCurrentConversation();
    renderInspector(null);
    ui.input.focus();
  }

  // The message views and inspector (playground_messages.js) and the chat (playground_chat.js),
  // loaded before this file, get the page's state here, once.
  var page = {
    kit: kit, api: api, ui: ui, state: state, request: request, showError: showError, announce: announce,
    unusableCredential: unusableCredential, currentBot: currentBot, loadConversations: loadConversations,
    recheckChat: function () { chatAllowed().then(function (can) { setCanChat(can); }); },
    credentialRefused: function () { setCanChat(false, unusableCredential()); },  // a 401
  };
  var views = pg.messages(page);
  var addUser = views.addUser, addAssistant = views.addAssistant, renderInspector = views.renderInspector;
  var chat = pg.chat(page, views);
  var send = chat.send, abortStream = chat.abortStream;

  // ---------------------------------------------------------------- events

  ui.keyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var key = ui.key.value.trim();
    if (key) connect(key);
  });
  ui.forget.addEventListener("click", function () {
    abortStream();
    writeKey(null);
    state.key = null;
    ui.app.hidden = true;
    ui.forget.hidden = true;
    ui.connectedAs.hidden = true;
    ui.keyRow.hidden = false;
    root.classList.remove("pg-connected");
    ui.key.placeholder = "cb_\u2026";
    ui.key.focus();
  });
  ui.newConv.addEventListener("click", newConversation);
  window.addEventListener("resize", function () { kit.markScrollers(ui.messages); });  // wide code
  ui.more.addEventListener("click", function () { loadConversations(true); });
  ui.bot.addEventListener("change", newConversation);
  ui.stop.addEventListener("click", abortStream);
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = ui.input.value.trim();
    if (!text || state.controller) return;
    ui.input.value = "";
    send(text);
  });
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });

  ui.tenant.addEventListener("change", function () {
    state.tenant = ui.tenant.value;
    connect(state.key, true);
  });

  var sessionNode = document.getElementById("pg-session");
  var session = null;
  try { session = sessionNode ? JSON.parse(sessionNode.textContent) : null; } catch (e) { session = null; }
  var saved = readKey();
  if (session && session.token && session.tenants && session.tenants.length) {
    // A verified staff session (admin login with OTP): no key needed.
    state.session = session;
    state.tenant = session.tenants[0].slug;
    ui.tenant.replaceChildren();
    session.tenants.forEach(function (t) {
      ui.tenant.appendChild(el("option", { value: t.slug, text: t.name + " (" + t.role + ")" }));
    });
    ui.tenantField.hidden = session.tenants.length < 2;
    connect(session.token, true);
  } else if (saved) {
    connect(saved);
  } else {
    ui.key.focus();
  }
})();
