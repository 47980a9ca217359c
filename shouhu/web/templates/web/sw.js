{% load static %}/* Shouhu service worker (issue 16, R11.5), served at /sw.js so its scope is the whole site.
 * Pages: network first (a few seconds on a weak signal), then the copy kept from the last visit, so
 * the village worker's day — today's work, the children, a file's summary, the visit and contact
 * forms — opens without signal. Static files: the copy first. A visit or contact post that cannot
 * reach the server is queued, encrypted (queue.js), and the worker is sent back to the form. */
importScripts("{% static 'web/queue.js' %}");
var VERSION = "{{ version }}";
var PAGES = "shouhu-pages";
var STATIC = "shouhu-static-" + VERSION;
var SHELL = [{% for url in shell %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var OFFLINE = "{% url 'web:offline' %}";
/* The pages worth keeping for the field: the rest is not kept (no need to hold more child data). */
var KEEP = [/^\/$/, /^\/care\/today\/$/, /^\/care\/alerts\/$/, /^\/children\/$/, /^\/children\/[0-9a-f-]{36}\/$/,
  /^\/care\/children\/[0-9a-f-]{36}\/((visit|contact)\/)?$/];
var FORMS = /^\/care\/children\/[0-9a-f-]{36}\/(visit|contact)\/$/;
var WAIT_MS = 6000;

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(STATIC).then(function (c) { return c.addAll(SHELL.concat([OFFLINE])); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("shouhu-static-") === 0 && k !== STATIC; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(url) {
  return KEEP.some(function (re) { return re.test(url.pathname); });
}

function timeout(ms) {
  return new Promise(function (_, reject) { setTimeout(function () { reject(new Error("timeout")); }, ms); });
}

function page(request) {
  var url = new URL(request.url);
  var net = fetch(request).then(function (resp) {
    if (resp.ok && !resp.redirected && keep(url)) {
      var copy = resp.clone();
      caches.open(PAGES).then(function (c) { c.put(url.pathname + url.search, copy); });
    }
    return resp;
  });
  return Promise.race([net, timeout(WAIT_MS)]).catch(function () {
    return caches.open(PAGES).then(function (c) {
      return c.match(url.pathname + url.search).then(function (hit) {
        return hit || c.match(url.pathname, { ignoreSearch: true });
      });
    }).then(function (hit) {
      if (hit) { return hit; }
      return net.catch(function () {
        return caches.match(OFFLINE).then(function (off) { return off || Response.error(); });
      });
    });
  });
}

function asset(request) {
  return caches.match(request).then(function (hit) {
    var net = fetch(request).then(function (resp) {
      if (resp.ok) {
        var copy = resp.clone();
        caches.open(STATIC).then(function (c) { c.put(request, copy); });
      }
      return resp;
    });
    return hit || net;
  });
}

/* A visit or contact form sent with no signal: kept in the encrypted queue, then back to the form. */
function post(request) {
  var url = new URL(request.url);
  var copy = request.clone();
  return Promise.race([fetch(request), timeout(20000)]).catch(function () {
    return copy.text().then(function (body) {
      var params = new URLSearchParams(body);
      var kind = url.pathname.indexOf("/visit/") > 0 ? "visit" : "contact";
      return ShouhuQueue.ready("").then(function (k) {
        if (!k) { throw new Error("no key"); }
        return ShouhuQueue.add(k.user, {
          url: url.pathname, body: params.toString(), kind: kind, child: params.get("child_name") || "",
          next: "", createdAt: Date.now()
        });
      }).then(function () {
        return Response.redirect(url.pathname + "?queued=1", 303);
      });
    });
  });
}

self.addEventListener("fetch", function (e) {
  var request = e.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && request.mode === "navigate" && FORMS.test(url.pathname)) {
    e.respondWith(post(request));
    return;
  }
  if (request.method !== "GET") { return; }
  if (request.mode === "navigate") {
    e.respondWith(page(request));
  } else if (url.pathname.indexOf("{{ static_prefix }}") === 0) {
    e.respondWith(asset(request));
  } else if (keep(url) && request.headers.get("HX-Request") === null) {
    e.respondWith(page(request));  /* the page's own prefetch of the day's files and forms */
  }
});
