/* Shouhu page script (issue 16), a static file so the CSP can forbid inline script:
 * - the error summary after 保存 takes the focus;
 * - the service worker (/sw.js) keeps the village worker's daily pages for use without signal;
 * - forms marked data-offline (visit, contact) are queued, encrypted, when there is no signal, and sent
 *   with their idempotency key when it returns ("待上传 N 条" in the header);
 * - logout deletes the queue, its key and the cached pages (asking first if records are unsent). */
(function () {
  "use strict";
  var body = document.body;
  var user = body.getAttribute("data-user") || "";
  var Q = window.ShouhuQueue;
  var T = JSON.parse((document.getElementById("offline-text") || { textContent: "{}" }).textContent || "{}");

  function t(key, n) { return (T[key] || key).replace("{n}", n === undefined ? "" : String(n)); }

  function focusSummary() {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) { summary.focus(); }
  }

  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* A cached form page is shown many times: every record gets its own key from here, not the page's. */
  function freshKeys() {
    document.querySelectorAll("form[data-offline] input[name=client_key]").forEach(function (i) { i.value = uuid(); });
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }

  /* ---- the header's "待上传 N 条" and the list under it ---- */
  var status = document.getElementById("offline-status");
  var panel = document.getElementById("offline-panel");

  function render() {
    if (!Q || !user || !status) { return Promise.resolve(); }
    return Q.list(user).then(function (list) {
      status.hidden = list.length === 0;
      status.querySelector("[data-count]").textContent = String(list.length);
      status.classList.toggle("btn-warning", list.some(function (r) { return r.status !== "pending"; }));
      panel.textContent = "";
      if (!list.length) { panel.hidden = true; return; }
      var ul = document.createElement("ul");
      ul.className = "list-group list-group-flush";
      list.forEach(function (r) { ul.appendChild(item(r)); });
      panel.appendChild(ul);
    });
  }

  function item(r) {
    var li = document.createElement("li");
    li.className = "list-group-item";
    li.setAttribute("data-record", r.status);
    var head = document.createElement("div");
    head.textContent = (r.kind === "visit" ? t("visit") : t("contact")) + " · " + r.child + " · " +
      new Date(r.createdAt).toLocaleString();
    li.appendChild(head);
    var note = document.createElement("div");
    note.className = "small";
    if (r.status === "pending") {
      note.textContent = t("pending");
    } else if (r.status === "conflict") {
      note.className = "small text-danger";
      note.textContent = r.message;
    } else {
      note.className = "small text-danger";
      note.textContent = r.message || t("failed");
    }
    li.appendChild(note);
    var actions = document.createElement("div");
    actions.className = "d-flex flex-wrap gap-2 mt-1";
    if (r.status === "conflict") {
      actions.appendChild(button(t("look"), "btn-outline-secondary", function () { location.href = r.next || r.url.replace(/(visit|contact)\/$/, ""); }));
      actions.appendChild(button(t("force"), "btn-primary", function () {
        var params = new URLSearchParams(r.body);
        params.set("base_version", String(r.version));
        Q.update(user, r.id, { body: params.toString(), status: "pending", message: "" }).then(sync);
      }));
    }
    if (r.status !== "pending") {
      actions.appendChild(button(t("drop"), "btn-outline-danger", function () {
        if (window.confirm(t("drop_confirm"))) { Q.remove(r.id).then(render); }
      }));
    }
    li.appendChild(actions);
    return li;
  }

  function button(label, css, onclick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm " + css;
    b.textContent = label;
    b.addEventListener("click", onclick);
    return b;
  }

  /* ---- sending ---- */
  var syncing = false;

  function send(r) {
    var params = new URLSearchParams(r.body);
    var token = csrf();
    if (token) { params.set("csrfmiddlewaretoken", token); }
    return fetch(r.url, {
      method: "POST",
      body: params,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-Shouhu-Sync": "1", "X-CSRFToken": token }
    }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      if (resp.type === "opaqueredirect" || type.indexOf("json") < 0) {
        return Q.update(user, r.id, { status: "pending", message: t("login") }).then(function () { return false; });
      }
      return resp.json().then(function (data) {
        if (resp.status === 201 || resp.status === 200) { return Q.remove(r.id).then(function () { return true; }); }
        if (resp.status === 409) {
          return Q.update(user, r.id, { status: "conflict", message: data.conflict, version: data.version });
        }
        var msgs = [];
        Object.keys(data.errors || {}).forEach(function (k) { msgs = msgs.concat(data.errors[k]); });
        return Q.update(user, r.id, { status: "invalid", message: msgs.join("；") || data.detail || t("failed") });
      });
    });
  }

  function sync() {
    if (!Q || !user || syncing || !navigator.onLine) { return render(); }
    syncing = true;
    return Q.list(user).then(function (list) {
      var todo = list.filter(function (r) { return r.status === "pending"; });
      return todo.reduce(function (p, r) {
        return p.then(function (go) { return go === false ? false : send(r); });
      }, Promise.resolve(true));
    }).catch(function () { /* still no signal: the records stay queued */ })
      .then(function () { syncing = false; return render(); });
  }

  /* ---- queueing a form typed without signal ---- */
  function clientSummary(form) {
    var invalid = Array.prototype.filter.call(form.elements, function (el) { return el.willValidate && !el.checkValidity(); });
    var old = document.querySelector(".error-summary");
    if (old) { old.remove(); }
    if (!invalid.length) { return true; }
    var box = document.createElement("div");
    box.className = "alert alert-danger error-summary";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    var h = document.createElement("h2");
    h.className = "h6";
    h.textContent = t("fix");
    box.appendChild(h);
    var ul = document.createElement("ul");
    ul.className = "mb-0";
    invalid.forEach(function (el) {
      var label = form.querySelector("label[for='" + el.id + "']");
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + el.id;
      a.textContent = label ? label.textContent : el.name;
      li.appendChild(a);
      li.appendChild(document.createTextNode("：" + el.validationMessage));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    form.parentNode.insertBefore(box, form);
    box.focus();
    return false;
  }

  function queue(form) {
    var record = {
      url: form.getAttribute("action") || location.pathname,
      body: new URLSearchParams(new FormData(form)).toString(),
      kind: form.getAttribute("data-offline"),
      child: form.getAttribute("data-child") || "",
      next: form.getAttribute("data-next") || "",
      createdAt: Date.now()
    };
    return Q.add(user, record).then(function () {
      form.reset();
      freshKeys();
      var done = document.createElement("div");
      done.className = "alert alert-success";
      done.setAttribute("role", "status");
      done.textContent = t("queued");
      form.parentNode.insertBefore(done, form);
      done.scrollIntoView();
      return render();
    });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches && form.matches("form[data-offline]") && Q && user && !navigator.onLine) {
      e.preventDefault();
      if (clientSummary(form)) { queue(form); }
    }
    if (form.matches && form.matches("form[data-logout]") && Q) {
      e.preventDefault();
      Q.list(user).then(function (list) {
        if (list.length && !window.confirm(t("logout_confirm", list.length))) { return; }
        var clear = window.caches ? caches.keys().then(function (ks) { return Promise.all(ks.map(function (k) { return caches.delete(k); })); }) : Promise.resolve();
        return Promise.all([Q.wipe(), clear]).then(function () { form.submit(); });
      }).catch(function () { form.submit(); });
    }
  });

  /* ---- the service worker and the pages it keeps for the field ---- */
  function prefetch() {
    var links = document.querySelectorAll("a[data-prefetch]");
    var urls = [];
    links.forEach(function (a) { if (urls.indexOf(a.href) < 0 && urls.length < 60) { urls.push(a.href); } });
    return urls.reduce(function (p, u) {
      return p.then(function () { return fetch(u, { credentials: "same-origin" }).catch(function () {}); });
    }, Promise.resolve());
  }

  if (status) {
    status.addEventListener("click", function () { panel.hidden = !panel.hidden; });
  }
  if (user && "serviceWorker" in navigator && body.getAttribute("data-sw")) {
    navigator.serviceWorker.register(body.getAttribute("data-sw"), { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      if (navigator.onLine && navigator.serviceWorker.controller) { prefetch(); }
    }).catch(function () {});
  }
  if (new URLSearchParams(location.search).get("queued")) {
    var note = document.createElement("div");
    note.className = "alert alert-success";
    note.setAttribute("role", "status");
    note.textContent = t("queued");
    var main = document.querySelector("main");
    if (main) { main.insertBefore(note, main.firstChild); }
  }
  /* ---- township → village picker (issue 16 part 4) over a select grouped by township ---- */
  function villagePicker(select) {
    var groups = Array.prototype.slice.call(select.querySelectorAll("optgroup")).map(function (g) {
      return { label: g.label, options: Array.prototype.slice.call(g.querySelectorAll("option")) };
    });
    if (!groups.length) { return; }
    var blank = Array.prototype.filter.call(select.options, function (o) { return o.parentNode === select; });
    var box = document.createElement("div");
    box.className = "village-picker d-flex flex-wrap gap-2 mb-2";
    var town = document.createElement("select");
    town.className = "form-select";
    town.setAttribute("aria-label", t("township"));
    town.appendChild(new Option(t("all_townships"), ""));
    groups.forEach(function (g) { town.appendChild(new Option(g.label, g.label)); });
    var search = document.createElement("input");
    search.type = "search";
    search.className = "form-control";
    search.placeholder = t("search_village");
    search.setAttribute("aria-label", t("search_village"));
    if (groups.length > 1) { box.appendChild(town); }
    box.appendChild(search);
    select.parentNode.insertBefore(box, select);
    var chosen = select.value;
    groups.forEach(function (g) {
      if (g.options.some(function (o) { return o.value === chosen && chosen; })) { town.value = g.label; }
    });
    function redraw() {
      var keep = select.value;
      var text = search.value.trim();
      select.textContent = "";
      blank.forEach(function (o) { select.appendChild(o); });
      groups.forEach(function (g) {
        if (town.value && g.label !== town.value) { return; }
        var shown = g.options.filter(function (o) {
          return !text || o.text.indexOf(text) >= 0 || g.label.indexOf(text) >= 0 || o.value === keep;
        });
        if (!shown.length) { return; }
        var og = document.createElement("optgroup");
        og.label = g.label;
        shown.forEach(function (o) { og.appendChild(o); });
        select.appendChild(og);
      });
      select.value = keep;
      if (select.value !== keep) { select.value = ""; }
    }
    town.addEventListener("change", redraw);
    search.addEventListener("input", redraw);
    redraw();
  }
  document.querySelectorAll("select[data-village-picker]").forEach(villagePicker);

  /* ---- countdown to a time limit (issue 16 part 5): "剩余 1 小时 5 分" / "已超时 12 分" ---- */
  function countdown() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = Math.round((new Date(el.getAttribute("datetime")).getTime() - Date.now()) / 60000);
      var n = Math.abs(left);
      var span = n >= 60 ? t("hours").replace("{h}", String(Math.floor(n / 60))).replace("{m}", String(n % 60)) : t("minutes", n);
      el.textContent = (left >= 0 ? t("left") : t("late")).replace("{t}", span);
      el.classList.toggle("text-danger", left < 60);
      el.classList.toggle("fw-bold", left < 60);
    });
  }
  countdown();
  window.setInterval(countdown, 30000);

  window.addEventListener("online", sync);
  freshKeys();
  focusSummary();
  if (Q && user) { Q.ready(user).then(sync).catch(function () {}); }
})();
