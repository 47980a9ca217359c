/* Shouhu offline queue (issue 16): records typed without signal, kept in IndexedDB and encrypted with
 * WebCrypto AES-GCM. The key is made in the browser as a non-extractable CryptoKey: script can use it
 * to encrypt and decrypt but never read it, so it is never stored in clear, and it is deleted with the
 * queue at logout (app.js). Used by the page (app.js) and by the service worker (sw.js, importScripts),
 * so it is a plain script that sets one global: ShouhuQueue. */
(function (scope) {
  "use strict";
  var DB = "shouhu-offline";
  var enc = new TextEncoder();
  var dec = new TextDecoder();

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        db.createObjectStore("keys");
        db.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(store, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var result;
        Promise.resolve(fn(t.objectStore(store))).then(function (r) { result = r; });
        t.oncomplete = function () { db.close(); resolve(result); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }

  function req(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }

  /* The key record {user, key}: made once per login, for the user the page says is logged in. One
   * look-up at a time, so two callers never make two keys (records sealed with a lost key are lost). */
  var memo = null;
  function keyFor(user) {
    if (memo && memo.user === user) { return memo.p; }
    var p = findOrMake(user);
    memo = { user: user, p: p };
    p.catch(function () { memo = null; });
    return p;
  }

  function findOrMake(user) {
    return tx("keys", "readonly", function (s) { return req(s.get("current")); }).then(function (rec) {
      if (rec && rec.user === user) { return rec; }
      if (!user) { return rec || null; }
      return crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"])
        .then(function (key) {
          var fresh = { user: user, key: key };
          return tx("keys", "readwrite", function (s) { s.put(fresh, "current"); }).then(function () { return fresh; });
        });
    });
  }

  function seal(key, obj) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, enc.encode(JSON.stringify(obj)))
      .then(function (ct) { return { iv: iv, ct: ct }; });
  }

  function unseal(key, row) {
    return crypto.subtle.decrypt({ name: "AES-GCM", iv: row.iv }, key, row.ct)
      .then(function (pt) { return JSON.parse(dec.decode(pt)); });
  }

  var Q = {
    /* Make (or find) the current user's key. `user` may be "" in the service worker: the current key. */
    ready: function (user) { return keyFor(user); },

    /* Add a record {url, body, kind, child, createdAt}; answers its id. */
    add: function (user, record) {
      return keyFor(user).then(function (k) {
        if (!k) { throw new Error("no key"); }
        record.status = "pending";
        return seal(k.key, record).then(function (box) {
          return tx("queue", "readwrite", function (s) {
            return req(s.add({ user: k.user, iv: box.iv, ct: box.ct, status: "pending", at: Date.now() }));
          });
        });
      });
    },

    /* The current user's records, decrypted, oldest first, each with its id. */
    list: function (user) {
      return keyFor(user).then(function (k) {
        if (!k) { return []; }
        return tx("queue", "readonly", function (s) { return req(s.getAll()); }).then(function (rows) {
          return Promise.all(rows.filter(function (r) { return r.user === k.user; }).map(function (r) {
            return unseal(k.key, r).then(function (obj) { obj.id = r.id; return obj; }, function () { return null; });
          })).then(function (list) { return list.filter(Boolean); });
        });
      });
    },

    /* Merge `patch` into a record (encrypted again, with a fresh IV). */
    update: function (user, id, patch) {
      return Q.list(user).then(function (list) {
        var rec = list.filter(function (r) { return r.id === id; })[0];
        if (!rec) { return; }
        Object.keys(patch).forEach(function (k) { rec[k] = patch[k]; });
        delete rec.id;
        return keyFor(user).then(function (k) {
          return seal(k.key, rec).then(function (box) {
            return tx("queue", "readwrite", function (s) {
              s.put({ id: id, user: k.user, iv: box.iv, ct: box.ct, status: rec.status, at: Date.now() });
            });
          });
        });
      });
    },

    remove: function (id) {
      return tx("queue", "readwrite", function (s) { s.delete(id); });
    },

    /* Everything gone: the queue and the key (logout). */
    wipe: function () {
      memo = null;
      return tx("queue", "readwrite", function (s) { s.clear(); }).then(function () {
        return tx("keys", "readwrite", function (s) { s.clear(); });
      });
    }
  };
  scope.ShouhuQueue = Q;
})(self);
