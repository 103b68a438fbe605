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
