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
