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
