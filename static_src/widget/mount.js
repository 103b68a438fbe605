// ------------------------------------------------------------------ the widget

/** One widget for `script` (its data-* attributes); options (the JS API's): lang, texts (i18n.js). */
function mount(script, options) {
  if (!script || script.getAttribute("data-cb-mounted")) return null;
  var data = script.dataset;
  if (!data.bot) return null;
  script.setAttribute("data-cb-mounted", "true");

  var scriptUrl = new URL(script.getAttribute("src") || "widget.js", document.baseURI);
  var language = widgetLanguage(data, options), t = language.t;
  var cfg = {
    bot: data.bot,
    key: data.key || "",
    api: (data.api || scriptUrl.origin).replace(/\/+$/, ""),
    scope: data.scope || "",
    title: data.title || t("title"),
    greeting: data.greeting || t("greeting"),
    placeholder: data.placeholder || t("placeholder"),
    position: data.position === "left" ? "left" : "right",
    theme: themeOf(data.theme),
    css: data.css || new URL("widget.css", scriptUrl).href,
    feedback: feedbackOn(data.feedback),
    lang: language.lang, dir: language.dir, texts: t,
  };
  var twin = (window.ChatbotWidget.instances || []).some(function (other) {
    var c = other.config;
    return c && c.api === cfg.api && c.bot === cfg.bot && c.scope === cfg.scope;
  });
  if (twin) {
    // The tag twice (a template and a tag manager, say): two panels would overwrite each
    // other's stored conversation, the second hiding the first.
    if (window.console) window.console.warn("Chatbot widget: " + cfg.bot + " is already on this page.");
    return null;
  }

  var store = storage();
  var storeKey = STORAGE_PREFIX + cfg.api + ":" + cfg.bot;
  var userId = endUserId(store);
  var state = loadState();
  var controller = null;
  var busy = false;

  function loadState() {
    try {
      var saved = JSON.parse(store.getItem(storeKey) || "null");
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch (e) { /* corrupt: start over */ }
    return { conversationId: null, messages: [] };
  }

  function saveState() {
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    try { store.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* quota: keep in memory */ }
  }

  // Host element + shadow root keep the page's CSS out and ours in.
  var host = el("chatbot-widget", { "data-bot": cfg.bot, "data-position": cfg.position });
  host.hidden = true;
  if (data.accent) host.style.setProperty("--cb-accent", data.accent);
  var root = host.attachShadow({ mode: "open" });
  var stylesheet = el("link", { rel: "stylesheet", href: cfg.css });
  stylesheet.addEventListener("load", function () {
    host.hidden = false;
    if (!panel.hidden) markScrollers(ui.log, t);  // opened (data-open) before it was styled
  });
  stylesheet.addEventListener("error", function () {
    // Unstyled, the panel would spill into the host page's content: stay hidden and say why
    // (usually the page's Content-Security-Policy: style-src must allow the chat server).
    if (window.console) {
      window.console.warn("Chatbot widget: its stylesheet " + cfg.css + " did not load, so the " +
        "widget stays hidden. If this page sends a Content-Security-Policy, allow " +
        new URL(cfg.css).origin + " in style-src.");
    }
  });
  root.appendChild(stylesheet);

  var ui = buildPanel(cfg);
  var launcher = ui.launcher, newButton = ui.newButton, closeButton = ui.closeButton;
  var announcer = ui.announcer, notice = ui.notice, input = ui.input, form = ui.form;
  var sendButton = ui.sendButton, stopButton = ui.stopButton, panel = ui.panel, wrapper = ui.wrapper;
  root.appendChild(wrapper);
  followTheme(wrapper, cfg.theme);

  // ---------------------------------------------------------------- rendering

  var transcript = createTranscript(ui.log, cfg.greeting, t);
  var scrollToEnd = transcript.scrollToEnd;
  var addUserMessage = transcript.addUserMessage;
  var addAssistantMessage = transcript.addAssistantMessage;

  function announce(message) {
    announcer.textContent = message || "";
  }

  function showNotice(message) {
    if (refusal.refused()) return;  // its notice stays until Try again
    notice.textContent = message || "";
    notice.hidden = !message;
  }

  var feedback = createFeedback({
    api: cfg.api, key: cfg.key, user: userId, announce: announce, save: saveState, texts: t,
    refused: function () { refusal.refuse(); },
  });
  var refusal = createRefusal({ root: root, input: input, sendButton: sendButton, notice: notice, feedback: feedback, texts: t });

  /** Rating buttons under a finished answer (stored: its entry in the stored transcript). */
  function rateable(view, stored) {
    if (cfg.feedback && stored.rateable) feedback.attach(view, stored);
  }

  var retry = createRetry({
    root: root, input: input, announce: announce, texts: t,
    busy: function () { return busy; },
    messages: function () { return state.messages; },
    send: function (text, attempt) { send(text, null, true, attempt); },
  });

  function renderTranscript() {
    var last = null;
    transcript.render(state.messages, function (view, stored) {
      rateable(view, stored);
      last = { view: view, stored: stored };
    });
    retry.restore(last);  // a failed (or interrupted) last answer keeps its Retry after a reload
  }

  // ---------------------------------------------------------------- behaviour

  function setBusy(value) {
    // The button that hides had the focus when a keyboard user sent (or stopped) with it:
    // hand it to the input rather than drop it on the host page's body.
    var refocus = root.activeElement === (value ? sendButton : stopButton);
    busy = value;
    sendButton.hidden = value;
    stopButton.hidden = !value;
    input.setAttribute("aria-busy", value ? "true" : "false");
    newButton.disabled = value;
    if (refocus) input.focus();
  }

  function open() {
    // Another widget's panel open in this corner (or anywhere on a phone, where panels fill the
    // screen) would lie under or over this one: it closes.
    document.dispatchEvent(new CustomEvent(OPEN_EVENT, { detail: { host: host, position: cfg.position } }));
    panel.hidden = false;
    panel.setAttribute("aria-modal", phone.matches ? "true" : "false");  // full screen there
    wrapper.classList.add("cb-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t("closeChatTitled", { title: cfg.title }));
    markScrollers(ui.log, t);  // answers rendered while the panel was closed were not measured
    scrollToEnd();
    input.focus();
  }

  /** keepFocus: closed because another widget opened (the focus is that widget's). */
  function close(keepFocus) {
    panel.hidden = true;
    wrapper.classList.remove("cb-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", t("openChat", { title: cfg.title }));
    if (keepFocus !== true) launcher.focus();
  }

  document.addEventListener(OPEN_EVENT, function (event) {
    var other = event.detail || {};
    if (other.host === host || panel.hidden) return;
    if (other.position === cfg.position || phone.matches) close(true);
  });
  window.addEventListener("resize", function () {
    if (!panel.hidden) markScrollers(ui.log, t);  // a code block may now fit, or no longer
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  /**
   * retried: the conversation id the first attempt used, when this is its retry without it;
   * again: the visitor's Retry of a failed answer (their question is on screen already);
   * attempt: how many times it was sent again by itself (a transient failure: AUTO_RETRIES).
   */
  function send(text, retried, again, attempt) {
    attempt = attempt || 0;
    if (!cfg.key) {
      showNotice(t("noKey"));
      return;
    }
    showNotice("");
    setBusy(true);
    retry.drop();
    if (!retried && !again) {
      addUserMessage(text);
      state.messages.push({ role: "user", content: text });
    }
    if (!retried) {
      state.pending = true;  // until finish(): a page left mid-answer says so when it comes back
      saveState();
    }
    var view = addAssistantMessage();
    view.node.setAttribute("aria-busy", "true");
    view.node.classList.add("cb-streaming");
    view.streaming = true;
    view.setStatus(t("thinking"), "pending");
    controller = new AbortController();
    var failed = null;
    var failedType = null;  // the error event's type: some can never succeed when sent again
    var handlers = {
      failed: false,
      onEvent: function (name, payload) {
        if (name === "start") {
          if (payload.conversation_id && payload.conversation_id !== state.conversationId) {
            state.conversationId = payload.conversation_id;
            saveState();  // a reload mid-answer continues this conversation, not a new one
          }
          view.messageId = payload.message_id;
        } else if (name === "citations") {
          view.setCitations(payload.citations);
        } else if (name === "delta") {
          if (typeof payload.text === "string") {
            view.text += payload.text;
            view.setStatus("");
            view.schedule();
          }
        } else if (name === "end") {
          view.finishReason = payload.finish_reason;
        } else if (name === "error") {
          handlers.failed = true;
          failed = serverSentence(payload.error, t, true) || t("answerFailed");
          failedType = payload.error && payload.error.type;
        }
      },
    };
    var conversationBefore = state.conversationId;
    streamChat({
      api: cfg.api,
      key: cfg.key,
      bot: cfg.bot,
      message: text,
      conversationId: state.conversationId,
      scope: cfg.scope,
      user: userId,
      signal: controller.signal,
      texts: t,
    }, handlers).then(function () {
      var refused = !!failed && keyRefused(null, failedType);  // (revoked mid-answer, say)
      if (!refused) feedback.allow(true);
      finish(failed ? "error" : null, failed, !FINAL_ERRORS[failedType]);
      if (refused) refusal.refuse();
    }, function (err) {
      if (err.kind === "http" && conversationBefore && !retried &&
          (err.status === 404 || (err.status === 409 && !err.retryAfter))) {
        // The stored conversation is gone (deleted or purged: 404) or cannot be continued (its
        // bot was deleted: 409 without Retry-After, "start a new conversation"): start a new
        // one once.
        state.conversationId = null;
        view.node.remove();
        setBusy(false);
        send(text, conversationBefore, false, attempt);
        return;
      }
      if (err.kind === "http" && err.status === 404 && retried && !state.conversationId) {
        // A new conversation was refused too (a wrong data-bot or data-scope): the first 404
        // was not about the stored conversation, so keep it for when the page is fixed.
        state.conversationId = retried;
      }
      // The service briefly down (not a refusal: the input stays enabled): the question is sent
      // again by itself after the server's Retry-After, at most AUTO_RETRIES times.
      var wait = transient(err) && attempt < AUTO_RETRIES ? retryDelay(err) : 0;
      var auto = wait ? { seconds: wait, attempt: attempt + 1, note: autoRetryNote(err, wait, t) } : null;
      finish(err.kind === "aborted" ? "aborted" : "error", err.message, retryable(err), auto);
      // The key itself refused: the input, Send and the thumbs on screen are disabled.
      if (keyRefused(err)) refusal.refuse();
    });

    /** canRetry: the failure is one that sending the question again may get past; auto: its
     * automatic retry ({ seconds, attempt, note: the sentence shown meanwhile }), or null. */
    function finish(kind, message, canRetry, auto) {
      controller = null;
      if (view.frame) window.cancelAnimationFrame(view.frame);
      view.streaming = false;
      view.render();
      view.node.removeAttribute("aria-busy");
      view.node.classList.remove("cb-streaming");
      var note = null;
      if (kind === "aborted") note = t("stopped");
      else if (kind === "error") note = message;
      else if (view.finishReason === "length") note = t("lengthLimit");
      if (kind === "error" && !view.text) {
        view.node.classList.add("cb-msg--error");
      }
      var shown = auto ? auto.note : note;  // (stored: the sentence without the countdown)
      view.setStatus(shown, kind === "error" ? "error" : kind === "aborted" ? "muted" : "muted");
      delete state.pending;
      if (view.text || view.citations.length || note) {  // a failure's sentence is kept too
        state.messages.push(view.stored = {
          role: "assistant",
          content: view.text,
          citations: view.citations,
          messageId: view.messageId || null,
          note: note,
          noteKind: kind === "error" ? "error" : "muted",
          rateable: !kind && !!view.messageId,  // a whole answer (not failed, not stopped)
          retry: kind === "error" && !!canRetry,  // its Retry comes back with it after a reload
          rating: null,
        });
        rateable(view, view.stored);
      }
      saveState();
      if (kind === "error" && canRetry) retry.offer(view, text, auto);
      if (transcript.following()) scrollToEnd();
      announce(kind === "aborted" ? note : [view.text && t("assistant") + spokenText(view.node.querySelector(".cb-bubble")), shown].filter(Boolean).join(" "));
      setBusy(false);
    }
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  closeButton.addEventListener("click", function () { close(); });
  newButton.addEventListener("click", function () {
    if (busy) return;
    state = { conversationId: null, messages: [] };
    saveState();
    showNotice("");
    renderTranscript();
    input.focus();
  });
  stopButton.addEventListener("click", function () {
    if (controller) controller.abort();
    input.focus();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy || refusal.refused()) return;
    input.value = "";
    autosize();
    send(text, false);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  input.addEventListener("input", autosize);
  // On a phone the open panel covers the whole page (its launcher hidden): Tab cycles in the
  // panel rather than move to the page's links underneath, out of sight.
  var phone = window.matchMedia ? window.matchMedia("(max-width: 480px)") : { matches: false };
  wrapper.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) {
      event.stopPropagation();
      close();
    } else if (event.key === "Tab" && !panel.hidden && phone.matches) {
      var stops = Array.prototype.filter.call(
        panel.querySelectorAll("button, textarea, a[href], [tabindex='0']"),
        function (node) { return !node.disabled && node.getClientRects().length > 0; }
      );
      var edge = event.shiftKey ? stops[0] : stops[stops.length - 1];
      if (stops.length && root.activeElement === edge) {
        event.preventDefault();
        (event.shiftKey ? stops[stops.length - 1] : stops[0]).focus();
      }
    }
  });

  if (state.pending) {
    // The page was reloaded or left while an answer streamed: the server finished and kept it,
    // but a browser key cannot read it back, so the question gets a note instead.
    delete state.pending;
    state.messages.push({ role: "assistant", content: "", citations: [], messageId: null, note: t("interrupted"), noteKind: "muted", interrupted: true });
    saveState();
  }
  renderTranscript();
  var attach = function () {
    // Other bots' widgets in the same corner: stack this launcher above theirs.
    var below = document.querySelectorAll('chatbot-widget[data-position="' + cfg.position + '"]').length;
    if (below) host.style.setProperty("--cb-stack", String(below));
    document.body.appendChild(host);
    if (data.open === "true") open();
  };
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);

  return { open: open, close: close, host: host, config: cfg };
}
