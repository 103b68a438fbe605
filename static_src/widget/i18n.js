// ------------------------------------------------------------------ the widget's own texts

/*
 * Every text of the widget's chrome a visitor sees or a screen reader says, by language: English
 * (the default) and the built-in de, fr, es and ar. A value is a string whose {name} parts are
 * filled in (a site's data-texts overrides are such strings too: {seconds} is then the number),
 * or a function of those arguments (a count's plural forms). docs/widget.md lists the keys.
 */
function seconds(n, one, many) {
  return n === 1 ? one : n + " " + many;
}

/** English's server sentences: the server's own words (its error `message`). */
function serverMessage(a) {
  return a.message;
}

var TEXTS = {
  en: {
    title: "Ask our assistant",
    greeting: "Hi! Ask me a question and I will answer from our documentation, with sources.",
    placeholder: "Type your question\u2026",
    openChat: "Open chat: {title}",
    closeChatTitled: "Close chat: {title}",
    closeChat: "Close chat",
    close: "Close",
    newConversation: "New conversation",
    startNewConversation: "Start a new conversation",
    conversation: "Conversation",
    yourMessage: "Your message",
    send: "Send message",
    sendTitle: "Send (Enter)",
    stop: "Stop generating",
    stopTitle: "Stop",
    footnote: "Answers come from our documents and may contain mistakes.",
    youSaid: "You said: ",
    assistant: "Assistant: ",
    thinking: "Thinking\u2026",
    stopped: "Stopped.",
    lengthLimit: "The answer reached its length limit.",
    answerFailed: "The answer failed. Please try again.",
    noKey: "This chat is not configured: the widget has no data-key.",
    interrupted: "The answer was interrupted: the page was reloaded or left before it finished.",
    sources: "Sources",
    source: "Source {n}",
    openSource: "Open source",
    table: "Table",
    code: "Code, scrolls sideways",
    codeLanguage: "Code ({language}), scrolls sideways",
    rateAnswer: "Rate this answer",
    helpful: "Helpful",
    notHelpful: "Not helpful",
    pressedTitle: "{label} (click again to remove)",
    saving: "Saving\u2026",
    removing: "Removing your feedback\u2026",
    savedHelpful: "Feedback saved: helpful.",
    savedNotHelpful: "Feedback saved: not helpful.",
    removed: "Feedback removed.",
    notSaved: "Your feedback was not saved. {reason}",
    cannotRate: "This answer can no longer be rated.",
    retry: "Retry",
    retryTitle: "Send your question again",
    retrying: "Sending your question again\u2026",
    refusedNotice: "Messages cannot be sent: the chat service refused this website or its key. " +
      "If you run this site, check the widget's data-key and its key's allowed origins.",
    refusedPlaceholder: "Chat unavailable",
    tryAgain: "Try again",
    notFound: "The chat server was not found (HTTP {status}). " +
      "If you run this site, set the widget's data-api to the chat server's address.",
    notFoundAt: "The chat server was not found at {api} (HTTP {status}). " +
      "If you run this site, set the widget's data-api to the chat server's address.",
    keyInvalid: "This chat is unavailable: its access key is invalid, revoked or expired. " +
      "If you run this site, check the widget's data-key.",
    refused: "Refused: {reason}",
    refusedSite: "Refused: this website is not allowed to use this chatbot.",
    tooMany: function (a) {
      return "This chat is receiving too many messages right now. Please wait " +
        seconds(a.seconds, "1 second", "seconds") + " and try again.";
    },
    tooManyMoment: "This chat is receiving too many messages right now. Please wait a moment and try again.",
    serverProblem: "The chat service had a problem (HTTP {status}). Please try again in a moment.",
    requestFailed: "The request failed (HTTP {status}).",
    network: "Could not reach the chat service. Check your connection and try again.",
    unavailable: "The chat service is briefly unavailable. Please try again in a moment.",
    originRefused: "Refused: this website ({origin}) is not allowed to use this chatbot, or its key " +
      "is no longer valid. If you run this site, add its address to the browser key's allowed " +
      "origins and check the widget's data-key.",
    csp: "The chat is unavailable on this page. If you run this site, see the browser console.",
    stalled: "The connection stalled before the answer finished. Please try again.",
    cutOff: "The answer was cut off before it finished. Please try again.",
    lost: "The connection was lost before the answer finished. Please try again.",
    noStream: "This browser cannot read streamed answers.",
    autoRetryNetwork: function (a) {
      return "Could not reach the chat service. Your question will be sent again in " +
        seconds(a.seconds, "1 second", "seconds") + ".";
    },
    autoRetryUnavailable: function (a) {
      return "The chat service is briefly unavailable. Your question will be sent again in " +
        seconds(a.seconds, "1 second", "seconds") + ".";
    },
    // The server's sentences (API.md's error `message`), by its error type (stream.js
    // serverSentence): English shows the server's own; the other languages translate them.
    errorNotFound: serverMessage,
    errorPermission: serverMessage,
    errorBusy: serverMessage,
    errorTooLong: serverMessage,
    errorTooLarge: serverMessage,
    errorUpstream: serverMessage,
    errorRevoked: serverMessage,
    errorNotStored: serverMessage,
    errorInternal: serverMessage,
  },
};

// Written in <html lang> or data-lang, these languages' panels run right to left.
var RTL_LANGUAGES = { ar: 1, he: 1, fa: 1, ur: 1 };

function own(object, key) {
  return !!object && Object.prototype.hasOwnProperty.call(object, key);
}

function fillText(text, args) {
  return String(text).replace(/\{(\w+)\}/g, function (whole, name) {
    return own(args, name) && args[name] !== null && args[name] !== undefined ? String(args[name]) : whole;
  });
}

/** t(key, args): the text `key` from `overrides`, else `table`, else English. */
function createTexts(table, overrides) {
  return function t(key, args) {
    var value = own(overrides, key) ? overrides[key] : own(table, key) ? table[key] : TEXTS.en[key];
    if (value === undefined) return key;
    return typeof value === "function" ? value(args || {}) : fillText(value, args);
  };
}

var ENGLISH = createTexts(TEXTS.en);

/** "de-AT" -> "de" (lower case; "" for none). */
function primaryLanguage(tag) {
  return String(tag || "").trim().toLowerCase().split(/[-_]/)[0];
}

/** Overrides from data-texts (a JSON object, as a string) or the JS API (an object): known keys
 * with string values; anything else is left out, with one console warning for the lot. */
function textOverrides(raw, source) {
  if (raw === undefined || raw === null || raw === "") return {};
  var problems = [];
  var parsed = raw;
  if (typeof raw === "string") {
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      parsed = null;
    }
  }
  var out = {};
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    problems.push("not a JSON object of texts");
  } else {
    Object.keys(parsed).forEach(function (key) {
      if (!own(TEXTS.en, key)) problems.push('"' + key + '" is not one of its texts');
      else if (typeof parsed[key] !== "string") problems.push('"' + key + '" is not a string');
      else out[key] = parsed[key];
    });
  }
  if (problems.length && window.console) {
    window.console.warn("Chatbot widget: " + source + " ignored in part: " + problems.join("; ") +
      " (docs/widget.md, Languages).");
  }
  return out;
}

/**
 * The widget's language: `data-lang` (its script tag's; "de-AT" reads as de), else the page's
 * <html lang> when it is a built-in language, else English. options (the JS API's mount):
 * lang and texts, over the tag's. Returns { lang: the language asked for ("" when none was),
 * dir: "rtl" | "ltr" | "" (none: the page's), t: the texts, data-texts over the table }.
 */
function widgetLanguage(data, options) {
  options = options || {};
  var asked = primaryLanguage(options.lang || data.lang);
  var page = primaryLanguage(document.documentElement && document.documentElement.lang);
  var lang = asked || (own(TEXTS, page) ? page : "");
  var overrides = textOverrides(data.texts, "data-texts");
  var extra = textOverrides(options.texts, "mount()'s texts");
  Object.keys(extra).forEach(function (key) { overrides[key] = extra[key]; });
  return {
    lang: lang,
    dir: RTL_LANGUAGES[lang] ? "rtl" : asked ? "ltr" : "",
    t: createTexts(TEXTS[lang] || TEXTS.en, overrides),
  };
}
