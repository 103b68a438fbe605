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
  mount: mount,
  instances: [],
};

var script = findScript();
if (script && script.dataset && script.dataset.bot) {
  var instance = mount(script);
  if (instance) window.ChatbotWidget.instances.push(instance);
}
