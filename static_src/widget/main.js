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
