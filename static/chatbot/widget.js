/* GENERATED FILE, do not edit: built by `python -m chatbot_project.build_widget` from
 * static_src/widget/*.js (edit those, rebuild, commit both; docs/widget.md). */
/*!
 * Chatbot widget: one script tag adds a floating chat button and panel to any page.
 *
 *   <script src="https://chat.example.com/static/chatbot/widget.js"
 *           data-bot="support" data-key="cb_browser_key" async></script>
 *
 * Optional attributes: data-api (API origin; defaults to the origin of this script's src),
 * data-title, data-greeting, data-placeholder, data-scope, data-accent (a CSS colour),
 * data-position ("right" | "left"), data-open ("true" opens the panel on load),
 * data-theme ("light" | "dark" | "auto", the default: the visitor's prefers-color-scheme),
 * data-css (stylesheet URL; defaults to widget.css beside this script),
 * data-feedback ("off": no thumbs up / down buttons under answers),
 * data-lang (the widget's language: en, de, fr, es, ar built in; else <html lang> when built in),
 * data-texts (a JSON object overriding any of its texts: i18n.js, docs/widget.md "Languages").
 * Theme from the host page with CSS variables on :root or on the <chatbot-widget> element:
 * --cb-accent, --cb-accent-contrast, --cb-bg, --cb-fg, --cb-muted, --cb-border, --cb-user-bg,
 * --cb-bot-bg, --cb-radius, --cb-font, --cb-z, --cb-panel-width, --cb-panel-height, --cb-focus
 * (focus rings), --cb-focus-on-accent (focus rings on the accent-coloured header).
 *
 * Safety: model output and document text are never parsed as HTML. The tiny Markdown renderer
 * below builds DOM nodes with createElement/textContent only; links are limited to http(s).
 *
 * Without data-bot the script only exposes window.ChatbotWidget (renderMarkdown, streamChat,
 * describeError, mount(tag, { lang, texts })) for the playground and for pages that mount it
 * themselves; it mounts nothing.
 */
(function () {
  "use strict";

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

  // ------------------------------------------------------------------ built-in languages: de, fr

  // The keys of TEXTS.en (i18n.js), translated. A missing key reads in English.

  TEXTS.de = {
    title: "Fragen Sie unseren Assistenten",
    greeting: "Hallo! Stellen Sie mir eine Frage \u2013 ich antworte anhand unserer Dokumentation, mit Quellen.",
    placeholder: "Ihre Frage eingeben\u2026",
    openChat: "Chat öffnen: {title}",
    closeChatTitled: "Chat schließen: {title}",
    closeChat: "Chat schließen",
    close: "Schließen",
    newConversation: "Neues Gespräch",
    startNewConversation: "Ein neues Gespräch beginnen",
    conversation: "Gespräch",
    yourMessage: "Ihre Nachricht",
    send: "Nachricht senden",
    sendTitle: "Senden (Eingabetaste)",
    stop: "Antwort anhalten",
    stopTitle: "Anhalten",
    footnote: "Die Antworten stammen aus unseren Dokumenten und können Fehler enthalten.",
    youSaid: "Sie haben geschrieben: ",
    assistant: "Assistent: ",
    thinking: "Denkt nach\u2026",
    stopped: "Angehalten.",
    lengthLimit: "Die Antwort hat ihre maximale Länge erreicht.",
    answerFailed: "Die Antwort ist fehlgeschlagen. Bitte versuchen Sie es erneut.",
    noKey: "Dieser Chat ist nicht eingerichtet: Dem Widget fehlt data-key.",
    interrupted: "Die Antwort wurde unterbrochen: Die Seite wurde neu geladen oder verlassen, bevor sie fertig war.",
    sources: "Quellen",
    source: "Quelle {n}",
    openSource: "Quelle öffnen",
    table: "Tabelle",
    code: "Code, seitlich scrollbar",
    codeLanguage: "Code ({language}), seitlich scrollbar",
    rateAnswer: "Diese Antwort bewerten",
    helpful: "Hilfreich",
    notHelpful: "Nicht hilfreich",
    pressedTitle: "{label} (zum Entfernen erneut klicken)",
    saving: "Wird gespeichert\u2026",
    removing: "Ihre Bewertung wird entfernt\u2026",
    savedHelpful: "Bewertung gespeichert: hilfreich.",
    savedNotHelpful: "Bewertung gespeichert: nicht hilfreich.",
    removed: "Bewertung entfernt.",
    notSaved: "Ihre Bewertung wurde nicht gespeichert. {reason}",
    cannotRate: "Diese Antwort kann nicht mehr bewertet werden.",
    retry: "Wiederholen",
    retryTitle: "Ihre Frage erneut senden",
    retrying: "Ihre Frage wird erneut gesendet\u2026",
    refusedNotice: "Nachrichten können nicht gesendet werden: Der Chat-Dienst hat diese Website oder ihren " +
      "Schlüssel abgelehnt. Wenn Sie diese Website betreiben, prüfen Sie data-key des Widgets und die " +
      "erlaubten Origins seines Schlüssels.",
    refusedPlaceholder: "Chat nicht verfügbar",
    tryAgain: "Erneut versuchen",
    notFound: "Der Chat-Server wurde nicht gefunden (HTTP {status}). Wenn Sie diese Website betreiben, " +
      "setzen Sie data-api des Widgets auf die Adresse des Chat-Servers.",
    notFoundAt: "Der Chat-Server wurde unter {api} nicht gefunden (HTTP {status}). Wenn Sie diese Website " +
      "betreiben, setzen Sie data-api des Widgets auf die Adresse des Chat-Servers.",
    keyInvalid: "Dieser Chat ist nicht verfügbar: Sein Zugangsschlüssel ist ungültig, widerrufen oder " +
      "abgelaufen. Wenn Sie diese Website betreiben, prüfen Sie data-key des Widgets.",
    refused: "Abgelehnt: {reason}",
    refusedSite: "Abgelehnt: Diese Website darf diesen Chatbot nicht verwenden.",
    tooMany: function (a) {
      return "Dieser Chat erhält gerade zu viele Nachrichten. Bitte warten Sie " +
        seconds(a.seconds, "1 Sekunde", "Sekunden") + " und versuchen Sie es dann erneut.";
    },
    tooManyMoment: "Dieser Chat erhält gerade zu viele Nachrichten. Bitte warten Sie einen Moment und " +
      "versuchen Sie es dann erneut.",
    serverProblem: "Beim Chat-Dienst ist ein Fehler aufgetreten (HTTP {status}). Bitte versuchen Sie es gleich noch einmal.",
    requestFailed: "Die Anfrage ist fehlgeschlagen (HTTP {status}).",
    network: "Der Chat-Dienst ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
    unavailable: "Der Chat-Dienst ist kurzzeitig nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.",
    originRefused: "Abgelehnt: Diese Website ({origin}) darf diesen Chatbot nicht verwenden, oder ihr " +
      "Schlüssel ist nicht mehr gültig. Wenn Sie diese Website betreiben, fügen Sie ihre Adresse den " +
      "erlaubten Origins des Browser-Schlüssels hinzu und prüfen Sie data-key des Widgets.",
    csp: "Der Chat ist auf dieser Seite nicht verfügbar. Wenn Sie diese Website betreiben, sehen Sie in der Browserkonsole nach.",
    stalled: "Die Verbindung ist ins Stocken geraten, bevor die Antwort fertig war. Bitte versuchen Sie es erneut.",
    cutOff: "Die Antwort wurde abgeschnitten, bevor sie fertig war. Bitte versuchen Sie es erneut.",
    lost: "Die Verbindung ist abgebrochen, bevor die Antwort fertig war. Bitte versuchen Sie es erneut.",
    noStream: "Dieser Browser kann gestreamte Antworten nicht lesen.",
    autoRetryNetwork: function (a) {
      return "Der Chat-Dienst ist nicht erreichbar. Ihre Frage wird in " +
        seconds(a.seconds, "1 Sekunde", "Sekunden") + " erneut gesendet.";
    },
    autoRetryUnavailable: function (a) {
      return "Der Chat-Dienst ist kurzzeitig nicht verfügbar. Ihre Frage wird in " +
        seconds(a.seconds, "1 Sekunde", "Sekunden") + " erneut gesendet.";
    },
    errorNotFound: "Dieser Chat ist nicht verfügbar: Sein Bot oder Bereich wurde nicht gefunden. Wenn Sie " +
      "diese Website betreiben, prüfen Sie data-bot und data-scope des Widgets.",
    errorPermission: "Der Schlüssel dieser Website darf diesen Chat nicht verwenden. Wenn Sie diese " +
      "Website betreiben, prüfen Sie die Berechtigungen des Schlüssels.",
    errorBusy: "Dieses Gespräch beantwortet noch Ihre vorige Nachricht. Bitte warten Sie, bis die Antwort " +
      "fertig ist, und senden Sie dann erneut.",
    errorTooLong: "Ihre Nachricht ist zu lang: Erlaubt sind höchstens {max} Zeichen. Bitte kürzen Sie sie " +
      "und versuchen Sie es erneut.",
    errorTooLarge: "Ihre Nachricht ist zu groß, um gesendet zu werden. Bitte kürzen Sie sie und versuchen " +
      "Sie es erneut.",
    errorUpstream: "Der Assistent kann gerade nicht antworten. Bitte versuchen Sie es gleich noch einmal.",
    errorRevoked: "Die Antwort wurde abgebrochen: Der Zugangsschlüssel dieses Chats ist nicht mehr gültig. " +
      "Wenn Sie diese Website betreiben, prüfen Sie data-key des Widgets.",
    errorNotStored: "Das Gespräch wurde gelöscht, während diese Antwort geschrieben wurde; sie wurde nicht gespeichert.",
    errorInternal: "Die Antwort konnte nicht gespeichert werden. Bitte versuchen Sie es erneut.",
  };

  // French: 0 and 1 take the singular ("0 seconde", "1 seconde").
  function frenchSeconds(n) {
    return n + (n <= 1 ? "\u00a0seconde" : "\u00a0secondes");
  }

  TEXTS.fr = {
    title: "Interrogez notre assistant",
    greeting: "Bonjour\u00a0! Posez-moi une question\u00a0: je réponds à partir de notre documentation, sources à l'appui.",
    placeholder: "Saisissez votre question\u2026",
    openChat: "Ouvrir le chat\u00a0: {title}",
    closeChatTitled: "Fermer le chat\u00a0: {title}",
    closeChat: "Fermer le chat",
    close: "Fermer",
    newConversation: "Nouvelle conversation",
    startNewConversation: "Commencer une nouvelle conversation",
    conversation: "Conversation",
    yourMessage: "Votre message",
    send: "Envoyer le message",
    sendTitle: "Envoyer (Entrée)",
    stop: "Arrêter la génération",
    stopTitle: "Arrêter",
    footnote: "Les réponses proviennent de nos documents et peuvent contenir des erreurs.",
    youSaid: "Vous avez écrit\u00a0: ",
    assistant: "Assistant\u00a0: ",
    thinking: "Réflexion en cours\u2026",
    stopped: "Arrêté.",
    lengthLimit: "La réponse a atteint sa longueur maximale.",
    answerFailed: "La réponse a échoué. Veuillez réessayer.",
    noKey: "Ce chat n'est pas configuré\u00a0: le widget n'a pas de data-key.",
    interrupted: "La réponse a été interrompue\u00a0: la page a été rechargée ou quittée avant la fin.",
    sources: "Sources",
    source: "Source {n}",
    openSource: "Ouvrir la source",
    table: "Tableau",
    code: "Code, défilement horizontal",
    codeLanguage: "Code ({language}), défilement horizontal",
    rateAnswer: "Évaluer cette réponse",
    helpful: "Utile",
    notHelpful: "Pas utile",
    pressedTitle: "{label} (cliquez à nouveau pour retirer votre avis)",
    saving: "Enregistrement\u2026",
    removing: "Suppression de votre avis\u2026",
    savedHelpful: "Avis enregistré\u00a0: utile.",
    savedNotHelpful: "Avis enregistré\u00a0: pas utile.",
    removed: "Avis retiré.",
    notSaved: "Votre avis n'a pas été enregistré. {reason}",
    cannotRate: "Cette réponse ne peut plus être évaluée.",
    retry: "Réessayer",
    retryTitle: "Renvoyer votre question",
    retrying: "Nouvel envoi de votre question\u2026",
    refusedNotice: "Impossible d'envoyer des messages\u00a0: le service de chat a refusé ce site ou sa clé. " +
      "Si vous gérez ce site, vérifiez le data-key du widget et les origines autorisées de sa clé.",
    refusedPlaceholder: "Chat indisponible",
    tryAgain: "Réessayer",
    notFound: "Le serveur de chat est introuvable (HTTP {status}). Si vous gérez ce site, indiquez " +
      "l'adresse du serveur de chat dans le data-api du widget.",
    notFoundAt: "Le serveur de chat est introuvable à l'adresse {api} (HTTP {status}). Si vous gérez ce " +
      "site, indiquez l'adresse du serveur de chat dans le data-api du widget.",
    keyInvalid: "Ce chat est indisponible\u00a0: sa clé d'accès est invalide, révoquée ou expirée. " +
      "Si vous gérez ce site, vérifiez le data-key du widget.",
    refused: "Refusé\u00a0: {reason}",
    refusedSite: "Refusé\u00a0: ce site n'est pas autorisé à utiliser ce chatbot.",
    tooMany: function (a) {
      return "Ce chat reçoit trop de messages en ce moment. Veuillez patienter " + frenchSeconds(a.seconds) +
        " puis réessayer.";
    },
    tooManyMoment: "Ce chat reçoit trop de messages en ce moment. Veuillez patienter un instant puis réessayer.",
    serverProblem: "Le service de chat a rencontré un problème (HTTP {status}). Veuillez réessayer dans un instant.",
    requestFailed: "La requête a échoué (HTTP {status}).",
    network: "Impossible de joindre le service de chat. Vérifiez votre connexion et réessayez.",
    unavailable: "Le service de chat est momentanément indisponible. Veuillez réessayer dans un instant.",
    originRefused: "Refusé\u00a0: ce site ({origin}) n'est pas autorisé à utiliser ce chatbot, ou sa clé " +
      "n'est plus valide. Si vous gérez ce site, ajoutez son adresse aux origines autorisées de la clé " +
      "de navigateur et vérifiez le data-key du widget.",
    csp: "Le chat est indisponible sur cette page. Si vous gérez ce site, consultez la console du navigateur.",
    stalled: "La connexion s'est figée avant la fin de la réponse. Veuillez réessayer.",
    cutOff: "La réponse a été coupée avant la fin. Veuillez réessayer.",
    lost: "La connexion a été perdue avant la fin de la réponse. Veuillez réessayer.",
    noStream: "Ce navigateur ne sait pas lire les réponses diffusées au fil de l'eau.",
    autoRetryNetwork: function (a) {
      return "Impossible de joindre le service de chat. Votre question sera renvoyée dans " +
        frenchSeconds(a.seconds) + ".";
    },
    autoRetryUnavailable: function (a) {
      return "Le service de chat est momentanément indisponible. Votre question sera renvoyée dans " +
        frenchSeconds(a.seconds) + ".";
    },
    errorNotFound: "Ce chat est indisponible\u00a0: son bot ou son périmètre est introuvable. Si vous gérez " +
      "ce site, vérifiez le data-bot et le data-scope du widget.",
    errorPermission: "la clé de ce site n'est pas autorisée à utiliser ce chat. Si vous gérez ce site, " +
      "vérifiez les autorisations de sa clé.",
    errorBusy: "Cette conversation répond encore à votre message précédent. Attendez la fin de la réponse, " +
      "puis renvoyez votre message.",
    errorTooLong: "Votre message est trop long\u00a0: {max}\u00a0caractères au maximum. Raccourcissez-le " +
      "et réessayez.",
    errorTooLarge: "Votre message est trop volumineux pour être envoyé. Raccourcissez-le et réessayez.",
    errorUpstream: "L'assistant ne peut pas répondre pour le moment. Veuillez réessayer dans un instant.",
    errorRevoked: "La réponse a été interrompue\u00a0: la clé d'accès de ce chat n'est plus valide. Si vous " +
      "gérez ce site, vérifiez le data-key du widget.",
    errorNotStored: "La conversation a été supprimée pendant l'écriture de cette réponse\u00a0; la réponse " +
      "n'a pas été enregistrée.",
    errorInternal: "La réponse n'a pas pu être enregistrée. Veuillez réessayer.",
  };

  // ------------------------------------------------------------------ built-in languages: es, ar

  // The keys of TEXTS.en (i18n.js), translated. A missing key reads in English.

  TEXTS.es = {
    title: "Pregunte a nuestro asistente",
    greeting: "¡Hola! Hágame una pregunta y le responderé a partir de nuestra documentación, con fuentes.",
    placeholder: "Escriba su pregunta\u2026",
    openChat: "Abrir el chat: {title}",
    closeChatTitled: "Cerrar el chat: {title}",
    closeChat: "Cerrar el chat",
    close: "Cerrar",
    newConversation: "Nueva conversación",
    startNewConversation: "Empezar una nueva conversación",
    conversation: "Conversación",
    yourMessage: "Su mensaje",
    send: "Enviar mensaje",
    sendTitle: "Enviar (Intro)",
    stop: "Detener la respuesta",
    stopTitle: "Detener",
    footnote: "Las respuestas provienen de nuestros documentos y pueden contener errores.",
    youSaid: "Usted escribió: ",
    assistant: "Asistente: ",
    thinking: "Pensando\u2026",
    stopped: "Detenida.",
    lengthLimit: "La respuesta alcanzó su longitud máxima.",
    answerFailed: "La respuesta falló. Inténtelo de nuevo.",
    noKey: "Este chat no está configurado: al widget le falta data-key.",
    interrupted: "La respuesta se interrumpió: la página se recargó o se abandonó antes de que terminara.",
    sources: "Fuentes",
    source: "Fuente {n}",
    openSource: "Abrir la fuente",
    table: "Tabla",
    code: "Código, se desplaza horizontalmente",
    codeLanguage: "Código ({language}), se desplaza horizontalmente",
    rateAnswer: "Valorar esta respuesta",
    helpful: "Útil",
    notHelpful: "No útil",
    pressedTitle: "{label} (vuelva a hacer clic para quitar la valoración)",
    saving: "Guardando\u2026",
    removing: "Quitando su valoración\u2026",
    savedHelpful: "Valoración guardada: útil.",
    savedNotHelpful: "Valoración guardada: no útil.",
    removed: "Valoración eliminada.",
    notSaved: "No se guardó su valoración. {reason}",
    cannotRate: "Esta respuesta ya no se puede valorar.",
    retry: "Reintentar",
    retryTitle: "Enviar su pregunta de nuevo",
    retrying: "Enviando su pregunta de nuevo\u2026",
    refusedNotice: "No se pueden enviar mensajes: el servicio de chat rechazó este sitio web o su clave. " +
      "Si administra este sitio, revise el data-key del widget y los orígenes permitidos de su clave.",
    refusedPlaceholder: "Chat no disponible",
    tryAgain: "Intentar de nuevo",
    notFound: "No se encontró el servidor del chat (HTTP {status}). Si administra este sitio, ponga en " +
      "el data-api del widget la dirección del servidor del chat.",
    notFoundAt: "No se encontró el servidor del chat en {api} (HTTP {status}). Si administra este sitio, " +
      "ponga en el data-api del widget la dirección del servidor del chat.",
    keyInvalid: "Este chat no está disponible: su clave de acceso no es válida, fue revocada o caducó. " +
      "Si administra este sitio, revise el data-key del widget.",
    refused: "Rechazado: {reason}",
    refusedSite: "Rechazado: este sitio web no tiene permiso para usar este chatbot.",
    tooMany: function (a) {
      return "Este chat está recibiendo demasiados mensajes en este momento. Espere " +
        seconds(a.seconds, "1 segundo", "segundos") + " y vuelva a intentarlo.";
    },
    tooManyMoment: "Este chat está recibiendo demasiados mensajes en este momento. Espere un momento y " +
      "vuelva a intentarlo.",
    serverProblem: "El servicio de chat tuvo un problema (HTTP {status}). Vuelva a intentarlo en un momento.",
    requestFailed: "La solicitud falló (HTTP {status}).",
    network: "No se pudo conectar con el servicio de chat. Compruebe su conexión y vuelva a intentarlo.",
    unavailable: "El servicio de chat no está disponible por unos momentos. Vuelva a intentarlo en un momento.",
    originRefused: "Rechazado: este sitio web ({origin}) no tiene permiso para usar este chatbot, o su " +
      "clave ya no es válida. Si administra este sitio, añada su dirección a los orígenes permitidos de " +
      "la clave de navegador y revise el data-key del widget.",
    csp: "El chat no está disponible en esta página. Si administra este sitio, consulte la consola del navegador.",
    stalled: "La conexión se quedó detenida antes de que terminara la respuesta. Vuelva a intentarlo.",
    cutOff: "La respuesta se cortó antes de terminar. Vuelva a intentarlo.",
    lost: "Se perdió la conexión antes de que terminara la respuesta. Vuelva a intentarlo.",
    noStream: "Este navegador no puede leer respuestas transmitidas en directo.",
    autoRetryNetwork: function (a) {
      return "No se pudo conectar con el servicio de chat. Su pregunta se enviará de nuevo dentro de " +
        seconds(a.seconds, "1 segundo", "segundos") + ".";
    },
    autoRetryUnavailable: function (a) {
      return "El servicio de chat no está disponible por unos momentos. Su pregunta se enviará de nuevo " +
        "dentro de " + seconds(a.seconds, "1 segundo", "segundos") + ".";
    },
    errorNotFound: "Este chat no está disponible: no se encontró su bot o su ámbito. Si administra este " +
      "sitio, revise el data-bot y el data-scope del widget.",
    errorPermission: "la clave de este sitio no puede usar este chat. Si administra este sitio, revise " +
      "los permisos de su clave.",
    errorBusy: "Esta conversación aún está respondiendo a su mensaje anterior. Espere a que termine la " +
      "respuesta y vuelva a enviarlo.",
    errorTooLong: "Su mensaje es demasiado largo: se admiten como máximo {max} caracteres. Acórtelo e " +
      "inténtelo de nuevo.",
    errorTooLarge: "Su mensaje es demasiado grande para enviarlo. Acórtelo e inténtelo de nuevo.",
    errorUpstream: "El asistente no puede responder en este momento. Inténtelo de nuevo en un momento.",
    errorRevoked: "La respuesta se interrumpió: la clave de acceso de este chat ya no es válida. Si " +
      "administra este sitio, revise el data-key del widget.",
    errorNotStored: "La conversación se eliminó mientras se escribía esta respuesta, por lo que no se guardó.",
    errorInternal: "No se pudo guardar la respuesta. Inténtelo de nuevo.",
  };

  /** Arabic: 1 ثانية واحدة, 2 ثانيتين, then by the last two digits 3-10 ثوانٍ, else ثانية. */
  function arabicSeconds(n) {
    if (n === 1) return "ثانية واحدة";
    if (n === 2) return "ثانيتين";
    var tail = n % 100;
    return n + (tail >= 3 && tail <= 10 ? " ثوانٍ" : " ثانية");
  }

  TEXTS.ar = {
    title: "اسأل مساعدنا",
    greeting: "مرحبًا! اطرح سؤالك وسأجيبك من وثائقنا مع ذكر المصادر.",
    placeholder: "اكتب سؤالك\u2026",
    openChat: "فتح المحادثة: {title}",
    closeChatTitled: "إغلاق المحادثة: {title}",
    closeChat: "إغلاق المحادثة",
    close: "إغلاق",
    newConversation: "محادثة جديدة",
    startNewConversation: "بدء محادثة جديدة",
    conversation: "المحادثة",
    yourMessage: "رسالتك",
    send: "إرسال الرسالة",
    sendTitle: "إرسال (Enter)",
    stop: "إيقاف الإجابة",
    stopTitle: "إيقاف",
    footnote: "تستند الإجابات إلى وثائقنا وقد تحتوي على أخطاء.",
    youSaid: "سؤالك: ",
    assistant: "المساعد: ",
    thinking: "جارٍ التفكير\u2026",
    stopped: "تم الإيقاف.",
    lengthLimit: "بلغت الإجابة الحد الأقصى لطولها.",
    answerFailed: "تعذّرت الإجابة. يُرجى المحاولة مرة أخرى.",
    noKey: "هذه المحادثة غير مُعدّة: لا تحتوي الأداة على data-key.",
    interrupted: "انقطعت الإجابة: أُعيد تحميل الصفحة أو غادرتَها قبل اكتمال الإجابة.",
    sources: "المصادر",
    source: "المصدر {n}",
    openSource: "فتح المصدر",
    table: "جدول",
    code: "شيفرة، تُمرَّر أفقيًا",
    codeLanguage: "شيفرة ({language})، تُمرَّر أفقيًا",
    rateAnswer: "قيّم هذه الإجابة",
    helpful: "مفيدة",
    notHelpful: "غير مفيدة",
    pressedTitle: "{label} (انقر مرة أخرى لإزالة التقييم)",
    saving: "جارٍ الحفظ\u2026",
    removing: "جارٍ إزالة تقييمك\u2026",
    savedHelpful: "تم حفظ التقييم: مفيدة.",
    savedNotHelpful: "تم حفظ التقييم: غير مفيدة.",
    removed: "تمت إزالة التقييم.",
    notSaved: "لم يُحفظ تقييمك. {reason}",
    cannotRate: "لم يعد بالإمكان تقييم هذه الإجابة.",
    retry: "إعادة المحاولة",
    retryTitle: "إرسال سؤالك مرة أخرى",
    retrying: "جارٍ إرسال سؤالك مرة أخرى\u2026",
    refusedNotice: "تعذّر إرسال الرسائل: رفضت خدمة المحادثة هذا الموقع أو مفتاحه. إذا كنت تدير هذا " +
      "الموقع، فتحقّق من data-key في الأداة ومن النطاقات المسموح بها لمفتاحها.",
    refusedPlaceholder: "المحادثة غير متاحة",
    tryAgain: "حاول مرة أخرى",
    notFound: "لم يُعثر على خادم المحادثة (HTTP {status}). إذا كنت تدير هذا الموقع، فاضبط data-api في " +
      "الأداة على عنوان خادم المحادثة.",
    notFoundAt: "لم يُعثر على خادم المحادثة في {api} (HTTP {status}). إذا كنت تدير هذا الموقع، فاضبط " +
      "data-api في الأداة على عنوان خادم المحادثة.",
    keyInvalid: "هذه المحادثة غير متاحة: مفتاح الوصول الخاص بها غير صالح أو مُلغى أو منتهي الصلاحية. " +
      "إذا كنت تدير هذا الموقع، فتحقّق من data-key في الأداة.",
    refused: "مرفوض: {reason}",
    refusedSite: "مرفوض: لا يُسمح لهذا الموقع باستخدام روبوت المحادثة هذا.",
    tooMany: function (a) {
      return "تتلقى هذه المحادثة رسائل كثيرة جدًا الآن. يُرجى الانتظار " + arabicSeconds(a.seconds) +
        " ثم المحاولة مرة أخرى.";
    },
    tooManyMoment: "تتلقى هذه المحادثة رسائل كثيرة جدًا الآن. يُرجى الانتظار لحظة ثم المحاولة مرة أخرى.",
    serverProblem: "واجهت خدمة المحادثة مشكلة (HTTP {status}). يُرجى المحاولة مرة أخرى بعد قليل.",
    requestFailed: "فشل الطلب (HTTP {status}).",
    network: "تعذّر الوصول إلى خدمة المحادثة. تحقّق من اتصالك وحاول مرة أخرى.",
    unavailable: "خدمة المحادثة غير متاحة مؤقتًا. يُرجى المحاولة مرة أخرى بعد قليل.",
    originRefused: "مرفوض: لا يُسمح لهذا الموقع ({origin}) باستخدام روبوت المحادثة هذا، أو لم يعد مفتاحه " +
      "صالحًا. إذا كنت تدير هذا الموقع، فأضف عنوانه إلى النطاقات المسموح بها لمفتاح المتصفح وتحقّق من " +
      "data-key في الأداة.",
    csp: "المحادثة غير متاحة في هذه الصفحة. إذا كنت تدير هذا الموقع، فراجع وحدة تحكم المتصفح.",
    stalled: "توقف الاتصال قبل اكتمال الإجابة. يُرجى المحاولة مرة أخرى.",
    cutOff: "انقطعت الإجابة قبل اكتمالها. يُرجى المحاولة مرة أخرى.",
    lost: "انقطع الاتصال قبل اكتمال الإجابة. يُرجى المحاولة مرة أخرى.",
    noStream: "لا يستطيع هذا المتصفح قراءة الإجابات المتدفقة.",
    autoRetryNetwork: function (a) {
      return "تعذّر الوصول إلى خدمة المحادثة. سيُرسل سؤالك مرة أخرى بعد " + arabicSeconds(a.seconds) + ".";
    },
    autoRetryUnavailable: function (a) {
      return "خدمة المحادثة غير متاحة مؤقتًا. سيُرسل سؤالك مرة أخرى بعد " + arabicSeconds(a.seconds) + ".";
    },
    errorNotFound: "هذه المحادثة غير متاحة: لم يُعثر على الروبوت أو النطاق الخاص بها. إذا كنت تدير هذا " +
      "الموقع، فتحقّق من data-bot وdata-scope في الأداة.",
    errorPermission: "مفتاح هذا الموقع غير مسموح له باستخدام هذه المحادثة. إذا كنت تدير هذا الموقع، " +
      "فتحقّق من صلاحيات المفتاح.",
    errorBusy: "لا تزال هذه المحادثة تجيب عن رسالتك السابقة. يُرجى الانتظار حتى تكتمل الإجابة ثم الإرسال مرة أخرى.",
    errorTooLong: "رسالتك طويلة جدًا (الحد الأقصى لعدد الأحرف: {max}). يُرجى اختصارها والمحاولة مرة أخرى.",
    errorTooLarge: "رسالتك أكبر من أن تُرسل. يُرجى اختصارها والمحاولة مرة أخرى.",
    errorUpstream: "لا يستطيع المساعد الإجابة الآن. يُرجى المحاولة مرة أخرى بعد قليل.",
    errorRevoked: "انقطعت الإجابة: مفتاح الوصول لهذه المحادثة لم يعد صالحًا. إذا كنت تدير هذا الموقع، " +
      "فتحقّق من data-key في الأداة.",
    errorNotStored: "حُذفت المحادثة أثناء كتابة هذه الإجابة، لذا لم تُحفظ.",
    errorInternal: "تعذّر حفظ الإجابة. يُرجى المحاولة مرة أخرى.",
  };

  var STORAGE_PREFIX = "chatbot:v1:";
  var MAX_STORED_MESSAGES = 60;
  // Sent on document when a widget opens its panel (the others of its corner close theirs).
  var OPEN_EVENT = "chatbot-widget:open";
  var SVG_NS = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------ DOM helpers (no innerHTML)

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "text") node.textContent = value;
        else if (name === "className") node.className = value;
        else node.setAttribute(name, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function icon(paths, size) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 22));
    svg.setAttribute("height", String(size || 22));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICONS = {
    chat: ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"],
    close: ["M6 6l12 12M18 6L6 18"],
    send: ["M3 11.5L21 3l-6.5 18-3-7.5z", "M11.5 13.5L21 3"],
    stop: ["M7 7h10v10H7z"],
    plus: ["M12 5v14M5 12h14"],
    retry: ["M20 11a8 8 0 1 0-2.3 5.7", "M20 4v7h-7"],
    thumbUp: ["M7 10v11H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3zm0 0l4-8a3 3 0 0 1 3 3v4h5.5a2 2 0 0 1 2 2.3l-1.3 8A2 2 0 0 1 18.2 21H7"],
    thumbDown: ["M17 14V3h3a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-3zm0 0l-4 8a3 3 0 0 1-3-3v-4H4.5a2 2 0 0 1-2-2.3l1.3-8A2 2 0 0 1 5.8 3H17"],
  };

  // ------------------------------------------------------------------ safe Markdown

  function safeHref(url) {
    if (typeof url !== "string" || !/^https?:\/\//i.test(url.trim())) return null;
    try {
      var parsed = new URL(url.trim());
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href, parent) {
    var a = el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow" });
    parent.appendChild(a);
    return a;
  }

  // Quotes nested deeper stay lines of text: an answer of thousands of ">" overflowed the call
  // stack and the widget hung mid-answer. (Inline nesting is bounded by INLINE_RE itself.)
  var MAX_QUOTE_DEPTH = 8;

  // code | **bold** | *em* | [label](url) | [n] citation | bare http(s) URL
  var INLINE_RE =
    /(`+)([^`][\s\S]*?)\1|\*\*(?=\S)([\s\S]*?\S)\*\*|\*(?=[^\s*])([^*]*?[^\s*]|[^\s*])\*|\[([^\]\n]+)\]\(([^()\s]+)\)|\[(\d{1,3})\]|(https?:\/\/[^\s<>()"'`]*[^\s<>()"'`.,;:!?])/g;

  function renderInline(text, parent, opts) {
    var re = new RegExp(INLINE_RE.source, "g");
    var last = 0;
    var match;
    while ((match = re.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      last = re.lastIndex;
      if (match[1]) {
        parent.appendChild(el("code", { text: match[2] }));
      } else if (match[3] !== undefined) {
        var strong = el("strong");
        renderInline(match[3], strong, opts);
        parent.appendChild(strong);
      } else if (match[4] !== undefined) {
        var em = el("em");
        renderInline(match[4], em, opts);
        parent.appendChild(em);
      } else if (match[5] !== undefined) {
        var href = safeHref(match[6]);
        if (href) renderInline(match[5], link(href, parent), opts);
        else parent.appendChild(document.createTextNode(match[0]));
      } else if (match[7] !== undefined) {
        var n = parseInt(match[7], 10);
        if (opts && opts.citationRef && opts.citationRef(n, parent)) continue;
        parent.appendChild(document.createTextNode(match[0]));
      } else if (match[8] !== undefined) {
        var bare = safeHref(match[8]);
        if (bare) link(bare, parent).textContent = match[8];
        else parent.appendChild(document.createTextNode(match[0]));
      }
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderLines(lines, parent, opts) {
    lines.forEach(function (line, i) {
      if (i > 0) parent.appendChild(el("br"));
      renderInline(line, parent, opts);
    });
  }

  var FENCE_RE = /^\s{0,3}(```|~~~)\s*([\w+#.-]*)\s*$/;
  var HEADING_RE = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  var UL_RE = /^\s{0,3}[-*+]\s+(.*)$/;
  var OL_RE = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
  var QUOTE_RE = /^\s{0,3}>\s?(.*)$/;
  var RULE_RE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;

  function isBlockStart(line) {
    return FENCE_RE.test(line) || HEADING_RE.test(line) || UL_RE.test(line) || OL_RE.test(line) ||
      QUOTE_RE.test(line) || RULE_RE.test(line);
  }

  // GitHub-style pipe tables: a header row, a delimiter row of as many cells ("| --- | :-: | --: |",
  // its colons the columns' alignment), then body rows (lines with a "|") up to a blank line or
  // another block. Cells are inline Markdown, like a paragraph's text.
  var TABLE_DELIM_CELL_RE = /^:?-+:?$/;
  var MAX_TABLE_COLUMNS = 64;

  /** The cells of a table row: its outer pipes dropped, "\|" a literal pipe. */
  function tableCells(line) {
    var text = line.trim();
    if (text.charAt(0) === "|") text = text.slice(1);
    if (/(^|[^\\])\|$/.test(text)) text = text.slice(0, -1);
    var cells = [];
    var cell = "";
    for (var k = 0; k < text.length; k++) {
      var ch = text.charAt(k);
      if (ch === "\\" && text.charAt(k + 1) === "|") {
        cell += "|";
        k++;
      } else if (ch === "|") {
        cells.push(cell.trim());
        cell = "";
      } else {
        cell += ch;
      }
    }
    cells.push(cell.trim());
    return cells;
  }

  /**
   * The columns' alignments ("left", "center", "right" or "") when lines[i] starts a table, else
   * null. While an answer streams (opts.streaming) a delimiter row on its last line may still be
   * arriving: the header stays text until that row is whole, so a table never turns back to text.
   */
  function tableAt(lines, i, opts) {
    if (i + 1 >= lines.length || lines[i].indexOf("|") === -1 || lines[i + 1].indexOf("|") === -1) return null;
    if (opts && opts.streaming && i + 1 === lines.length - 1) return null;
    var head = tableCells(lines[i]);
    var delim = tableCells(lines[i + 1]);
    if (head.length !== delim.length || head.length > MAX_TABLE_COLUMNS) return null;
    if (!delim.every(function (cell) { return TABLE_DELIM_CELL_RE.test(cell); })) return null;
    return delim.map(function (cell) {
      var left = cell.charAt(0) === ":";
      var right = cell.charAt(cell.length - 1) === ":";
      return left && right ? "center" : right ? "right" : left ? "left" : "";
    });
  }

  function isTableRow(line) {
    return line.indexOf("|") !== -1 && !/^\s*$/.test(line) && !isBlockStart(line);
  }

  /** Render the table starting at lines[i] into `container`; returns the index after it. */
  function renderTable(lines, i, aligns, container, opts) {
    function row(line, tag) {
      var cells = tableCells(line);
      var tr = el("tr");
      aligns.forEach(function (align, c) {
        var cell = el(tag, { scope: tag === "th" ? "col" : null, "data-align": align || null });
        renderInline(cells[c] || "", cell, opts);
        tr.appendChild(cell);
      });
      return tr;
    }
    var table = el("table", null, [el("thead", null, [row(lines[i], "th")])]);
    var body = el("tbody");
    i += 2;
    while (i < lines.length && isTableRow(lines[i])) {
      // A streaming answer's last line may be a row still arriving: it is shown once whole.
      if (!(opts && opts.streaming && i === lines.length - 1)) body.appendChild(row(lines[i], "td"));
      i++;
    }
    if (body.firstChild) table.appendChild(body);
    // Its own scroller: a wide table scrolls sideways instead of widening the panel. An Arabic or
    // Hebrew table runs right to left (its first column on the right, the scroller starting there)
    // by tableDirection: most of its cells' directions, not its first letter's.
    container.appendChild(el("div", { className: "cb-table", role: "region", "aria-label": ((opts && opts.texts) || ENGLISH)("table"), tabindex: "0", dir: tableDirection(table) }, [table]));
    return i;
  }

  // A letter (bidi class L, R or AL; digits, marks and punctuation are weak or neutral), and the
  // ranges of the right-to-left scripts' letters (Hebrew to Arabic Extended-A, their presentation
  // forms, and the astral right-to-left blocks, U+10800-10FFF and U+1E800-1EFFF).
  var LETTER_RE = (function () {
    try { return new RegExp("\\p{L}", "u"); } catch (e) { return /[A-Za-z\u00C0-\u024F\u0370-\u052F\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/; }
  })();
  var RTL_LETTER_RE = /^(?:[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]|[\uD802\uD803\uD83A\uD83B])/;

  /** "rtl" or "ltr" from the first letter of `text` (as dir=auto and unicode-bidi: plaintext
   * read it), or null when it has none. */
  function textDirection(text) {
    var letter = LETTER_RE.exec(text);
    return letter ? (RTL_LETTER_RE.test(letter[0]) ? "rtl" : "ltr") : null;
  }

  /**
   * The direction of a block of parts that each read their own way (unicode-bidi: plaintext):
   * a table's cells, a list's items, a quote's paragraphs. It runs the way most of its parts read
   * (each by its first letter); a tie goes to the first part with a letter (what dir=auto would
   * choose). By parts, not letters: one long Latin URL or code cell does not outvote a row of
   * Arabic cells, and an Arabic table, list or quote whose first part starts with a Latin name (an
   * API, a product) still runs right to left. No letter at all: "auto".
   */
  function majorityDirection(parts) {
    var votes = { rtl: 0, ltr: 0 }, first = null;
    Array.prototype.forEach.call(parts, function (part) {
      var dir = textDirection(part.textContent);
      if (!dir) return;
      votes[dir] += 1;
      first = first || dir;
    });
    if (!first) return "auto";
    return votes.rtl === votes.ltr ? first : votes.rtl > votes.ltr ? "rtl" : "ltr";
  }

  function tableDirection(table) {
    return majorityDirection(table.querySelectorAll("th, td"));
  }

  /** A quote's parts for its direction: its paragraphs, headings, list items and table cells
   * (a nested quote's, as parts of its own). */
  function quoteParts(quote) {
    return quote.querySelectorAll("p, .md-h, li, th, td");
  }

  /** opts for a part of the answer that has been received whole (no longer streaming). */
  function settled(opts) {
    if (!opts || !opts.streaming) return opts;
    var copy = {};
    Object.keys(opts).forEach(function (name) { copy[name] = opts[name]; });
    copy.streaming = false;
    return copy;
  }

  /**
   * Render Markdown into `container` using DOM APIs only. Everything that is not a recognised
   * construct stays literal text, so "<script>" shows as the characters "<script>".
   * opts.citationRef(n, parent) may append a citation marker for "[n]" and return true;
   * opts.streaming: the source is an answer still arriving (its last line may be incomplete).
   * (depth: internal, the blockquote nesting.)
   */
  function renderMarkdown(source, container, opts, depth) {
    depth = depth || 0;
    var lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      var m;
      if (/^\s*$/.test(line)) {
        i++;
      } else if ((m = FENCE_RE.exec(line))) {
        var fence = m[1];
        var body = [];
        i++;
        while (i < lines.length && lines[i].trim() !== fence) body.push(lines[i++]);
        i++; // closing fence (or past the end while streaming)
        var code = el("code", { text: body.join("\n") });
        if (m[2]) code.setAttribute("data-lang", m[2]);
        container.appendChild(el("pre", null, [code]));
      } else if ((m = tableAt(lines, i, opts))) {
        i = renderTable(lines, i, m, container, opts);
      } else if ((m = HEADING_RE.exec(line))) {
        var heading = el("h" + Math.min(6, m[1].length + 2), { className: "md-h" });
        renderInline(m[2], heading, opts);
        container.appendChild(heading);
        i++;
      } else if (RULE_RE.test(line)) {
        container.appendChild(el("hr"));
        i++;
      } else if (UL_RE.test(line) || OL_RE.test(line)) {
        var ordered = !UL_RE.test(line);
        var itemRe = ordered ? OL_RE : UL_RE;
        // An Arabic or Hebrew list runs right to left, its bullets on the right (the stylesheets
        // pad lists with padding-inline-start): the way most of its items read (majorityDirection;
        // each item's text still reads its own way, unicode-bidi: plaintext).
        var list = el(ordered ? "ol" : "ul");
        if (ordered) {
          var start = parseInt(OL_RE.exec(line)[1], 10);
          if (start !== 1) list.setAttribute("start", String(start));
        }
        while (i < lines.length && (m = itemRe.exec(lines[i]))) {
          var itemLines = [ordered ? m[2] : m[1]];
          i++;
          // Indented continuation lines belong to the item.
          while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !itemRe.test(lines[i])) {
            itemLines.push(lines[i].trim());
            i++;
          }
          var li = el("li");
          renderLines(itemLines, li, opts);
          list.appendChild(li);
        }
        list.setAttribute("dir", majorityDirection(list.children));
        container.appendChild(list);
      } else if (QUOTE_RE.test(line)) {
        var quoted = [];
        while (i < lines.length && (m = QUOTE_RE.exec(lines[i]))) {
          quoted.push(m[1]);
          i++;
        }
        if (depth >= MAX_QUOTE_DEPTH) {
          // Too deep: the rest is shown as lines of text, its further ">" literal.
          var flat = el("p");
          renderLines(quoted, flat, opts);
          container.appendChild(flat);
        } else {
          var quote = el("blockquote");  // its bar on the side most of its paragraphs start
          renderMarkdown(quoted.join("\n"), quote, i < lines.length ? settled(opts) : opts, depth + 1);
          quote.setAttribute("dir", majorityDirection(quoteParts(quote)));
          container.appendChild(quote);
        }
      } else {
        var para = [line];
        i++;
        while (i < lines.length && !/^\s*$/.test(lines[i]) && !isBlockStart(lines[i]) && !tableAt(lines, i, opts)) {
          para.push(lines[i]);
          i++;
        }
        var p = el("p");
        renderLines(para, p, opts);
        container.appendChild(p);
      }
    }
    return container;
  }

  /**
   * Code blocks wider than their box scroll sideways: each becomes a named region that Tab reaches
   * (the arrow keys then scroll it), as tables are; a block that fits is no extra Tab stop. It
   * measures, so call it on a rendered answer that is laid out (again when its width changes).
   * t: the widget's texts (i18n.js; English by default), for the region's name.
   */
  function markScrollers(container, t) {
    t = t || ENGLISH;
    Array.prototype.forEach.call(container.querySelectorAll("pre"), function (pre) {
      if (!pre.clientWidth) return;  // not laid out (a closed panel): marked when it is shown
      if (pre.scrollWidth > pre.clientWidth + 1) {
        var lang = pre.firstChild && pre.firstChild.getAttribute && pre.firstChild.getAttribute("data-lang");
        pre.setAttribute("tabindex", "0");
        pre.setAttribute("role", "region");
        pre.setAttribute("aria-label", lang ? t("codeLanguage", { language: lang }) : t("code"));
      } else {
        pre.removeAttribute("tabindex");
        pre.removeAttribute("role");
        pre.removeAttribute("aria-label");
      }
    });
  }

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

  // ------------------------------------------------------------------ storage

  function storage() {
    try {
      var probe = STORAGE_PREFIX + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      var memory = {};
      return {
        getItem: function (k) { return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null; },
        setItem: function (k, v) { memory[k] = String(v); },
        removeItem: function (k) { delete memory[k]; },
      };
    }
  }

  function randomId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function endUserId(store) {
    var key = STORAGE_PREFIX + "user";
    var id = store.getItem(key);
    if (!id || !/^anon-[0-9a-f-]{16,40}$/.test(id)) {
      id = "anon-" + randomId();
      store.setItem(key, id);
    }
    return id;
  }

  // ------------------------------------------------------------------ citations

  /** Numbered chips under an answer; clicking one shows its title, snippet and source (t: the
   * widget's texts, i18n.js; English by default). */
  function renderCitations(citations, container, idPrefix, t) {
    t = t || ENGLISH;
    container.replaceChildren();
    if (!citations || !citations.length) {
      container.hidden = true;
      return;
    }
    container.hidden = false;
    var detail = el("div", { className: "cb-cite-detail", role: "note", hidden: true, id: idPrefix + "-detail" });
    var chips = el("div", { className: "cb-chips" }, [el("span", { className: "cb-chips-label", text: t("sources") })]);
    citations.forEach(function (c, i) {
      var n = c.index || i + 1;
      var title = c.document_title || c.title || t("source", { n: n });
      var chip = el("button", {
        type: "button",
        className: "cb-chip",
        title: title + (c.snippet ? " \u2014 " + c.snippet : ""),
        "aria-expanded": "false",
        "aria-controls": idPrefix + "-detail",
        "data-index": n,
      }, [el("span", { className: "cb-chip-n", text: String(n) }), el("span", { className: "cb-chip-title", text: title })]);
      chip.addEventListener("click", function () {
        var open = chip.getAttribute("aria-expanded") === "true";
        Array.prototype.forEach.call(chips.querySelectorAll(".cb-chip"), function (other) {
          other.setAttribute("aria-expanded", "false");
        });
        if (open) {
          detail.hidden = true;
          return;
        }
        chip.setAttribute("aria-expanded", "true");
        detail.replaceChildren(
          el("div", { className: "cb-cite-title" }, [el("span", { className: "cb-chip-n", text: String(n) }), " " + title])
        );
        if (c.snippet) detail.appendChild(el("blockquote", { className: "cb-cite-snippet", text: c.snippet }));
        var href = safeHref(c.source);
        if (href) {
          var a = link(href, detail);
          a.className = "cb-cite-source";
          a.textContent = t("openSource");
        } else if (c.source) {
          detail.appendChild(el("div", { className: "cb-cite-source", text: String(c.source) }));
        }
        detail.hidden = false;
        if (detail.scrollIntoView) detail.scrollIntoView({ block: "nearest" });
      });
      chips.appendChild(chip);
    });
    container.appendChild(chips);
    container.appendChild(detail);
  }

  function citationRefFactory(getCitations, rootContainer, t) {
    return function (n, parent) {
      var list = getCitations();
      if (!list || !list.some(function (c, i) { return (c.index || i + 1) === n; })) return false;
      var ref = el("button", { type: "button", className: "cb-ref", "aria-label": (t || ENGLISH)("source", { n: n }), text: String(n) });
      ref.addEventListener("click", function () {
        var chip = rootContainer && rootContainer.querySelector('.cb-chip[data-index="' + n + '"]');
        if (chip) { chip.click(); chip.focus(); }
      });
      parent.appendChild(el("sup", null, [ref]));
      return true;
    };
  }

  // ------------------------------------------------------------------ the panel's DOM

  /** The panel and its launcher, built for one widget; mount() wires their behaviour. Its texts are
   * cfg.texts (i18n.js); cfg.dir, when set, the panel's direction (rtl for Arabic, say). */
  function buildPanel(cfg) {
    var t = cfg.texts;
    var launcher = el("button", {
      type: "button",
      className: "cb-launcher",
      "aria-label": t("openChat", { title: cfg.title }),
      "aria-expanded": "false",
      "aria-controls": "cb-panel",
      "aria-haspopup": "dialog",
    }, [icon(ICONS.chat, 26)]);

    // One line (widget.css ends a long title in an ellipsis): the whole of it is its tooltip, and
    // its text stays whole for screen readers (the dialog's name).
    var titleEl = el("h2", { id: "cb-title", className: "cb-title", text: cfg.title, title: cfg.title });
    var newButton = el("button", { type: "button", className: "cb-icon-btn cb-new", "aria-label": t("startNewConversation"), title: t("newConversation") }, [icon(ICONS.plus, 20)]);
    var closeButton = el("button", { type: "button", className: "cb-icon-btn cb-close", "aria-label": t("closeChat"), title: t("close") }, [icon(ICONS.close, 20)]);
    // Not a live region: a streamed answer is re-rendered many times a second, and a screen
    // reader would read every partial state. `announcer` says each finished answer once.
    var log = el("div", { className: "cb-messages", role: "region", "aria-label": t("conversation"), tabindex: "0" });
    var announcer = el("div", { className: "cb-sr", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    var notice = el("div", { id: "cb-notice", className: "cb-notice", role: "alert", hidden: true });
    var input = el("textarea", {
      id: "cb-input",
      className: "cb-input",
      rows: "1",
      placeholder: cfg.placeholder,
      "aria-label": t("yourMessage"),
      maxlength: "4000",
      enterkeyhint: "send",
      dir: "auto",  // an Arabic or Hebrew question is typed right to left
    });
    var sendButton = el("button", { type: "submit", className: "cb-send", "aria-label": t("send"), title: t("sendTitle") }, [icon(ICONS.send, 20)]);
    var stopButton = el("button", { type: "button", className: "cb-stop", "aria-label": t("stop"), title: t("stopTitle"), hidden: true }, [icon(ICONS.stop, 18)]);
    var form = el("form", { className: "cb-form" }, [input, stopButton, sendButton]);
    var panel = el("div", {
      id: "cb-panel",
      className: "cb-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "cb-title",
      dir: cfg.dir || null,  // the page's when no language was asked for
      hidden: true,
    }, [
      el("header", { className: "cb-header" }, [
        el("span", { className: "cb-avatar", "aria-hidden": "true" }, [icon(ICONS.chat, 18)]),
        titleEl,
        newButton,
        closeButton,
      ]),
      log,
      announcer,
      notice,
      form,
      el("p", { className: "cb-footnote", text: t("footnote") }),
    ]);
    var wrapper = el("div", { className: "cb-root", "data-position": cfg.position, lang: cfg.lang || null }, [panel, launcher]);
    return {
      launcher: launcher, titleEl: titleEl, newButton: newButton, closeButton: closeButton, log: log,
      announcer: announcer, notice: notice, input: input, sendButton: sendButton, stopButton: stopButton,
      form: form, panel: panel, wrapper: wrapper,
    };
  }

  /**
   * Light or dark colours (widget.css) on `wrapper`: the script tag's data-theme, "light" or
   * "dark", or by default ("auto") the visitor's prefers-color-scheme, followed when it changes.
   */
  /** The script tag's data-theme as "light", "dark" or "auto" (any case, spaces ignored). */
  function themeOf(value) {
    var theme = String(value || "").trim().toLowerCase();
    return theme === "light" || theme === "dark" ? theme : "auto";
  }

  function followTheme(wrapper, theme) {
    var dark = theme === "auto" && window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    function apply() {
      wrapper.setAttribute("data-theme", dark ? (dark.matches ? "dark" : "light") : theme === "dark" ? "dark" : "light");
    }
    apply();
    if (dark && dark.addEventListener) dark.addEventListener("change", apply);
    else if (dark && dark.addListener) dark.addListener(apply);  // Safari before 14
  }

  // ------------------------------------------------------------------ the transcript's messages

  /** The messages in `log`: the greeting, the visitor's questions and the answers' views (t: the
   * widget's texts, i18n.js). */
  function createTranscript(log, greeting, t) {
    var counter = 0;

    // A visitor who scrolls up to read keeps their place while the answer streams on below.
    var follow = true;
    log.addEventListener("scroll", function () {
      follow = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    });

    function scrollToEnd() {
      follow = true;
      log.scrollTop = log.scrollHeight;
    }

    function addGreeting() {
      log.appendChild(el("div", { className: "cb-msg cb-msg--assistant cb-msg--greeting" }, [
        el("div", { className: "cb-bubble", text: greeting }),
      ]));
    }

    function addUserMessage(text) {
      var node = el("div", { className: "cb-msg cb-msg--user" }, [
        el("span", { className: "cb-sr", text: t("youSaid") }),
        el("div", { className: "cb-bubble", text: text }),
      ]);
      log.appendChild(node);
      scrollToEnd();
      return node;
    }

    function addAssistantMessage() {
      counter += 1;
      var bubble = el("div", { className: "cb-bubble cb-md" });
      var cites = el("div", { className: "cb-citations", hidden: true });
      var status = el("div", { className: "cb-status", hidden: true });
      var node = el("div", { className: "cb-msg cb-msg--assistant" }, [
        el("span", { className: "cb-sr", text: t("assistant") }), bubble, cites, status,
      ]);
      log.appendChild(node);
      var view = {
        node: node,
        text: "",
        streaming: false,  // set while the answer arrives: a table's incomplete last row waits
        citations: [],
        frame: 0,
        render: function () {
          view.frame = 0;
          bubble.replaceChildren();
          try {
            renderMarkdown(view.text, bubble, {
              citationRef: citationRefFactory(function () { return view.citations; }, cites, t),
              streaming: view.streaming,
              texts: t,
            });
          } catch (e) {
            // Never leave the widget stuck mid-answer: show the text as it is.
            bubble.replaceChildren(document.createTextNode(view.text));
          }
          markScrollers(bubble, t);
          if (follow) scrollToEnd();
        },
        schedule: function () {
          if (!view.frame) view.frame = window.requestAnimationFrame(view.render);
        },
        setCitations: function (list) {
          view.citations = Array.isArray(list) ? list : [];
          renderCitations(view.citations, cites, "cb-cite-" + counter, t);
          view.schedule();
        },
        setStatus: function (message, kind) {
          status.textContent = message || "";
          status.hidden = !message;
          status.className = "cb-status" + (kind ? " cb-status--" + kind : "");
        },
      };
      var myCounter = counter;
      cites.id = "cb-cites-" + myCounter;
      return view;
    }

    /** onAnswer(view, stored): called for each stored answer once it is rendered. */
    function render(messages, onAnswer) {
      log.replaceChildren();
      addGreeting();
      messages.forEach(function (m) {
        if (m.role === "user") {
          addUserMessage(m.content);
        } else {
          var view = addAssistantMessage();
          view.text = m.content || "";
          view.setCitations(m.citations || []);
          view.render();
          if (m.note) view.setStatus(m.note, m.noteKind);
          if (!m.content && m.noteKind === "error") view.node.classList.add("cb-msg--error");  // as it was shown
          view.messageId = m.messageId || null;
          if (onAnswer) onAnswer(view, m);
        }
      });
      scrollToEnd();
    }

    return {
      scrollToEnd: scrollToEnd,
      following: function () { return follow; },
      addUserMessage: addUserMessage,
      addAssistantMessage: addAssistantMessage,
      render: render,
    };
  }

  /** An answer's bubble as read aloud (the widget's announcement, the playground's): the rendered
   * text (Markdown marks gone), spaced and capped. */
  function spokenText(bubble) {
    bubble = bubble.cloneNode(true);
    // A space after each block: "chips.</p><ul><li>Browser" is not read as "chips.Browser".
    Array.prototype.forEach.call(bubble.querySelectorAll("p, li, pre, blockquote, .md-h, tr, th, td, br"), function (node) {
      node.parentNode.insertBefore(document.createTextNode(" "), node.nextSibling);
    });
    var text = bubble.textContent.replace(/\s+/g, " ").trim();
    return text.length > 2000 ? text.slice(0, 2000) + "\u2026" : text;
  }

  // ------------------------------------------------------------------ rating answers

  // label and saved: keys of the widget's texts (i18n.js).
  var RATINGS = {
    up: { label: "helpful", saved: "savedHelpful", icon: "thumbUp" },
    down: { label: "notHelpful", saved: "savedNotHelpful", icon: "thumbDown" },
  };

  /** The script tag's data-feedback: "off" (or "false", any case) shows no rating buttons. */
  function feedbackOn(value) {
    var v = String(value || "").trim().toLowerCase();
    return v !== "off" && v !== "false";
  }

  /**
   * Thumbs up and down under finished answers. options: api, key, user (the visitor's id, as
   * the chat sends it: the server rates only that visitor's answers), announce(text),
   * save() (after `stored.rating` changed: the rating is kept with the stored transcript) and
   * refused() (a rating was refused for the key itself: 401, 403 or the browser's CORS refusal)
   * and texts (i18n.js).
   */
  function createFeedback(options) {
    var t = options.texts || ENGLISH;
    var allowed = true;
    var shown = [];  // the rating buttons attached so far

    /** The buttons under `view` (its messageId set), showing and saving `stored.rating`. */
    function attach(view, stored) {
      if (!view.messageId) return;
      var saving = false;
      var note = el("span", { className: "cb-feedback-note", hidden: true });
      var buttons = {};
      var group = el("div", { className: "cb-feedback", role: "group", "aria-label": t("rateAnswer") },
        Object.keys(RATINGS).map(function (rating) {
          var button = buttons[rating] = el("button", {
            type: "button",
            className: "cb-rate cb-rate--" + rating,
            "aria-label": t(RATINGS[rating].label),
            title: t(RATINGS[rating].label),
            "aria-pressed": "false",
          }, [icon(ICONS[RATINGS[rating].icon], 16)]);
          button.addEventListener("click", function () { rate(rating); });
          button.disabled = !allowed;
          shown.push(button);
          return button;
        }).concat([note]));
      view.node.appendChild(group);
      show(stored.rating);

      function show(rating) {
        Object.keys(buttons).forEach(function (name) {
          buttons[name].setAttribute("aria-pressed", name === rating ? "true" : "false");
          var label = t(RATINGS[name].label);
          buttons[name].title = name === rating ? t("pressedTitle", { label: label }) : label;
        });
      }

      function say(text, kind) {
        note.textContent = text;
        note.hidden = !text;
        note.className = "cb-feedback-note" + (kind ? " cb-feedback-note--" + kind : "");
        if (text) options.announce(text);
      }

      /** The other thumb rates; the pressed one again withdraws the rating (a toggle). */
      function rate(rating) {
        // One request at a time (aria-disabled rather than disabled: the focus stays on the button).
        if (saving) return;
        var clear = rating === stored.rating;
        saving = true;
        group.setAttribute("aria-busy", "true");
        Object.keys(buttons).forEach(function (name) { buttons[name].setAttribute("aria-disabled", "true"); });
        say(clear ? t("removing") : t("saving"));
        sendRating(view.messageId, clear ? null : rating).then(function () {
          stored.rating = clear ? null : rating;
          options.save();
          show(stored.rating);
          say(clear ? t("removed") : t(RATINGS[rating].saved), "ok");
        }, function (err) {
          say(t("notSaved", { reason: err.message }), "error");
          if (keyRefused(err)) options.refused();  // (disables these buttons too)
        }).then(function () {
          saving = false;
          group.removeAttribute("aria-busy");
          Object.keys(buttons).forEach(function (name) { buttons[name].removeAttribute("aria-disabled"); });
        });
      }
    }

    /** POST /v1/messages/{id}/feedback, or DELETE it (rating null: the visitor withdrew it; the
     * visitor's id then goes in the query string); rejects with a ChatError whose message is for
     * the visitor. */
    function sendRating(messageId, rating) {
      var url = options.api + "/v1/messages/" + encodeURIComponent(messageId) + "/feedback";
      var headers = { Authorization: "Bearer " + options.key };
      var body = undefined;
      if (rating) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(options.user ? { rating: rating, user: options.user } : { rating: rating });
      } else if (options.user) {
        url += "?user=" + encodeURIComponent(options.user);
      }
      return fetch(url, {
        method: rating ? "POST" : "DELETE",
        headers: headers,
        body: body,
        credentials: "omit",
        mode: "cors",
        cache: "no-store",
      }).then(function (response) {
        if (response.ok) return null;
        return response.text().then(function (text) {
          var parsed = null;
          try { parsed = JSON.parse(text); } catch (e) { /* not JSON */ }
          throw new ChatError("http", response.status === 404 && parsed && parsed.error
            ? t("cannotRate")  // its conversation was deleted, say
            : describeError(response.status, parsed, response.headers.get("Retry-After"), options.api, t),
            response.status);
        });
      }, function () {
        // (as the chat's: a refused origin or revoked key reads as a network failure here)
        var probe = { Authorization: headers.Authorization, "Content-Type": "application/json" };
        return explainFetchFailure(options.api, probe, t).then(function (err) { throw err; });
      });
    }

    /** can: false once a chat was refused for the key itself (revoked, its chat permission or this
     * site's origin taken away): the buttons on screen are disabled with it, as a rating would be
     * refused the same way; a later answer that comes brings them back. */
    function allow(can) {
      allowed = can;
      shown = shown.filter(function (button) { return button.isConnected; });
      shown.forEach(function (button) { button.disabled = !can; });
    }

    return { attach: attach, allow: allow };
  }

  /** A chat failure that refuses the key itself (streamChat's ChatError, or an error event's type). */
  function keyRefused(err, eventType) {
    if (eventType) return eventType === "authentication_failed" || eventType === "permission_denied";
    return err.kind === "origin" || (err.kind === "http" && (err.status === 401 || err.status === 403));
  }

  // ------------------------------------------------------------------ retrying a failed answer

  /**
   * The Retry button under the last answer when it failed (or was interrupted by a reload): it
   * sends the same question again in the same conversation, in the failed answer's place (the
   * question's bubble stays as it is). options: root (the shadow root), input, busy(), messages()
   * (the stored transcript), announce(text) and send(text, attempt) (the question again, its
   * bubble kept; attempt: the automatic retries made so far) and texts (i18n.js).
   */
  function createRetry(options) {
    var t = options.texts || ENGLISH;
    var current = null;  // on the last failed answer, while it is the last one
    var timer = 0;  // an automatic retry waiting

    /**
     * view: the failed answer's view (view.stored: its entry in the stored transcript).
     * auto: { seconds, attempt } to press Retry by itself after that many seconds (a transient
     * failure, a bounded number of times: see AUTO_RETRIES), or null. The visitor may press it
     * sooner; a question of their own meanwhile (drop) cancels it.
     */
    function offer(view, text, auto) {
      var button = el("button", { type: "button", className: "cb-retry", title: t("retryTitle") }, [
        icon(ICONS.retry, 16), t("retry"),
      ]);
      function again(attempt) {
        if (options.busy()) return;
        var keyboard = options.root.activeElement === button;
        var messages = options.messages();
        if (view.stored && messages[messages.length - 1] === view.stored) messages.pop();
        view.node.remove();
        options.announce(t("retrying"));
        options.send(text, attempt);
        if (keyboard) options.input.focus();  // the button is gone: not onto the host page's body
      }
      button.addEventListener("click", function () { again(auto ? auto.attempt : 0); });
      view.node.appendChild(button);
      current = button;
      if (auto) {
        timer = window.setTimeout(function () {
          timer = 0;
          if (current === button) again(auto.attempt);
        }, auto.seconds * 1000);
      }
    }

    function drop() {
      window.clearTimeout(timer);
      timer = 0;
      if (current) current.remove();
      current = null;
    }

    /** After the stored transcript is rendered again (a reload): the last answer's Retry, as it had
     * when it failed. last: { view, stored } of the last answer rendered, or null. */
    function restore(last) {
      current = null;  // (the transcript's nodes were replaced)
      var messages = options.messages();
      var n = messages.length;
      if (!last || n < 2 || messages[n - 1] !== last.stored || messages[n - 2].role !== "user") return;
      // (a refusal: none; an interruption stored before it was flagged reads as its English note)
      if (!last.stored.retry && !last.stored.interrupted && last.stored.note !== TEXTS.en.interrupted) return;
      last.view.stored = last.stored;
      offer(last.view, messages[n - 2].content);
    }

    return { offer: offer, drop: drop, restore: restore };
  }

  // ------------------------------------------------------------------ a refused key

  /**
   * The message box once the server refused the widget's key itself (401, 403, a CORS refusal,
   * an error event saying so, or a rating refused the same way): another question could only be
   * refused again, so the input, Send and the thumbs are disabled and the notice (an alert) says
   * why, with a Try again button that enables them for one more attempt (the site's owner may
   * have fixed the key since); an answer that then comes keeps them enabled. options: root (the
   * shadow root), input, sendButton, notice, feedback (createFeedback's) and texts (i18n.js).
   */
  function createRefusal(options) {
    var t = options.texts || ENGLISH;
    var input = options.input, sendButton = options.sendButton, notice = options.notice;
    var refused = false;
    var placeholder = input.placeholder;
    var again = el("button", { type: "button", className: "cb-notice-action", text: t("tryAgain") });
    again.addEventListener("click", function () {
      lift();
      input.focus();
    });

    function refuse() {
      options.feedback.allow(false);
      if (refused) return;
      // The visitor was in the message box (sent with Enter or Send) or on a thumb: the focus
      // goes to the notice's button, not to the host page's body as those are disabled under it.
      var focused = options.root.activeElement;
      var typing = focused === input || focused === sendButton ||
        (!!focused && focused.classList.contains("cb-rate"));  // (a refused rating's, now disabled)
      refused = true;
      input.disabled = sendButton.disabled = true;
      input.placeholder = t("refusedPlaceholder");
      input.setAttribute("aria-describedby", "cb-notice");
      notice.replaceChildren(el("span", { text: t("refusedNotice") }), " ", again);
      notice.hidden = false;
      if (typing && input.getClientRects().length) again.focus();
    }

    /** Enabled again (Try again, or an answer came after all). */
    function lift() {
      if (!refused) return;
      refused = false;
      input.disabled = sendButton.disabled = false;
      input.placeholder = placeholder;
      input.removeAttribute("aria-describedby");
      notice.replaceChildren();
      notice.hidden = true;
    }

    return { refuse: refuse, lift: lift, refused: function () { return refused; } };
  }

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

  window.ChatbotWidget = window.ChatbotWidget || {
    renderMarkdown: renderMarkdown,
    markScrollers: markScrollers,
    spokenText: spokenText,
    el: el,
    renderCitations: renderCitations,
    citationRef: citationRefFactory,
    safeHref: safeHref,
    streamChat: streamChat,
    describeError: describeError,
    transientError: transient,  // (the playground's: a brief outage, not a refusal)
    createSSEParser: createSSEParser,
    endUserId: function () { return endUserId(storage()); },
    // A page's own mount(tag, { lang, texts }) counts as the tag's (one widget per bot and scope).
    mount: function (tag, options) {
      var instance = mount(tag, options);
      if (instance) window.ChatbotWidget.instances.push(instance);
      return instance;
    },
    instances: [],
  };

  function findScript() {
    if (document.currentScript) return document.currentScript;
    var scripts = document.querySelectorAll('script[src*="widget.js"]');
    return scripts.length ? scripts[scripts.length - 1] : null;
  }

  var script = findScript();
  if (script && script.dataset && script.dataset.bot) {
    var instance = mount(script);
    if (instance) window.ChatbotWidget.instances.push(instance);
  }
})();
