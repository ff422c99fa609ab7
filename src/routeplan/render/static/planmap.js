/* Draws a routeplan plan on a Leaflet map.
 * All user data (names, addresses, phones) arrives as JSON and is put into the page with
 * textContent, never as HTML, so a shop name cannot run script. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function row(table, key, value) {
    const tr = el("tr");
    tr.appendChild(el("th", null, key));
    tr.appendChild(el("td", null, value));
    table.appendChild(tr);
  }

  function shopPopup(L10N, shop, route, order, dates) {
    const box = el("div", "rp-popup");
    box.appendChild(el("div", "rp-popup-title", shop.name));
    const t = el("table");
    row(t, L10N.route, route.label + " · " + L10N.seq + order);
    row(t, L10N.class, shop.class);
    if (shop.address) row(t, L10N.address, shop.address);
    if (shop.phone) row(t, L10N.phone, shop.phone);
    row(t, L10N.dates, dates.join(", "));
    box.appendChild(t);
    return box;
  }

  function routePopup(L10N, manager, route) {
    const box = el("div", "rp-popup");
    box.appendChild(el("div", "rp-popup-title", manager.name + " · " + L10N.route + " " + route.label));
    const t = el("table");
    row(t, L10N.stops, route.stops.length);
    row(t, L10N.planned_km, route.km.toFixed(1));
    row(t, L10N.leave, route.leave);
    row(t, L10N.finish, route.finish);
    row(t, L10N.runs, route.dates.join(", "));
    box.appendChild(t);
    return box;
  }

  /* Above this many stops the plan map draws them on a canvas (no numbered badges). */
  const LARGE_MAP_STOPS = 4000;

  function stopIcon(route, order) {
    const badge = el("div", "rp-stop-badge", order);
    badge.style.borderColor = route.color;
    return L.divIcon({ className: "rp-stop", html: badge, iconSize: [20, 20], iconAnchor: [10, 10] });
  }

  function officeIcon(manager) {
    const badge = el("div", "rp-office-badge", "\u2302");
    badge.style.background = manager.color;
    return L.divIcon({ className: "rp-office", html: badge, iconSize: [22, 22], iconAnchor: [11, 11] });
  }

  function addBackground(map, data, L10N) {
    const offlineNote = function () {
      const note = L.control({ position: "bottomleft" });
      note.onAdd = function () { return el("div", "rp-offline", L10N.offline); };
      note.addTo(map);
    };
    if (data.streets.length) {
      const canvas = L.canvas({ padding: 0.2 });
      L.polyline(data.streets, { color: "#9a9a9a", weight: 1, opacity: 0.8, interactive: false, renderer: canvas })
        .addTo(map);
    }
    if (!data.tiles) {
      if (!data.streets.length) offlineNote();
      return;
    }
    if (!navigator.onLine) {
      offlineNote();
      return;
    }
    const layer = L.tileLayer(data.tiles.url, {
      attribution: data.tiles.attribution, subdomains: data.tiles.subdomains, maxZoom: data.tiles.max_zoom,
    });
    let failures = 0;
    layer.on("tileerror", function () {
      failures += 1;
      if (failures === 4) { map.removeLayer(layer); offlineNote(); }
    });
    layer.addTo(map);
  }

  function swatch(cls, color) {
    const node = el("span", cls);
    node.style.background = color;
    return node;
  }

  /* A ticked checkbox that shows its layer while ticked; data-<key>=<id> names it for tests. */
  function layerBox(map, layer, key, id) {
    const box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.dataset[key] = id;
    box.addEventListener("change", function () {
      if (box.checked) layer.addTo(map); else map.removeLayer(layer);
    });
    return box;
  }

  function setChecked(box, on) {
    if (box.checked !== on) { box.checked = on; box.dispatchEvent(new Event("change")); }
  }

  function layerControl(map, data, L10N, groups) {
    const control = L.control({ position: "topright" });
    control.onAdd = function () {
      const box = el("div", "rp-control leaflet-bar");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      box.appendChild(el("div", "rp-control-title", data.title));
      box.appendChild(el("div", "rp-control-sub", data.subtitle));
      const head = el("div", "rp-control-head", L10N.managers + " ");
      const all = el("button", "rp-link", L10N.all);
      const none = el("button", "rp-link", L10N.none);
      head.appendChild(all);
      head.appendChild(none);
      box.appendChild(head);
      const list = el("div", "rp-control-list");
      groups.forEach(function (g) {
        const item = el("details", "rp-manager");
        const summary = el("summary");
        const mbox = layerBox(map, g.layer, "manager", g.manager.id);
        summary.appendChild(mbox);
        summary.appendChild(swatch("rp-swatch", g.manager.color));
        summary.appendChild(el("span", "rp-manager-name", g.manager.name + " (" + g.manager.id + ")"));
        item.appendChild(summary);
        const rboxes = g.routes.map(function (r) {
          const label = el("label", "rp-route");
          const rbox = layerBox(map, r.layer, "route", r.route.id);
          label.appendChild(rbox);
          label.appendChild(swatch("rp-swatch rp-swatch-line", r.route.color));
          label.appendChild(el("span", null, r.route.label + " · " + r.route.stops.length + " · " +
            r.route.km.toFixed(0) + " " + L10N.km));
          item.appendChild(label);
          return rbox;
        });
        mbox.addEventListener("change", function () {
          rboxes.forEach(function (b) { setChecked(b, mbox.checked); });
        });
        list.appendChild(item);
      });
      box.appendChild(list);
      function setAll(on) {
        list.querySelectorAll("input[data-manager]").forEach(function (b) { setChecked(b, on); });
      }
      all.addEventListener("click", function () { setAll(true); });
      none.addEventListener("click", function () { setAll(false); });
      const legend = el("div", "rp-legend");
      [["rp-legend-office", L10N.office], ["rp-legend-stop", L10N.stop], ["rp-legend-area", L10N.territory]]
        .forEach(function (pair) {
          const line = el("div");
          line.appendChild(el("span", pair[0]));
          line.appendChild(el("span", null, pair[1]));
          legend.appendChild(line);
        });
      box.appendChild(legend);
      return box;
    };
    control.addTo(map);
  }

  window.routeplanDraw = function (map, data) {
    const L10N = data.labels;
    addBackground(map, data, L10N);
    const groups = [];
    const bounds = L.latLngBounds([]);
    // a company-sized map draws its stops as circles on one canvas, popups built when opened:
    // tens of thousands of DOM markers would take a browser minutes
    const stopCount = data.managers.reduce(function (n, m) {
      return n + m.routes.reduce(function (k, r) { return k + r.stops.length; }, 0);
    }, 0);
    const canvas = stopCount > LARGE_MAP_STOPS ? L.canvas({ padding: 0.3 }) : null;
    data.managers.forEach(function (m) {
      const layer = L.featureGroup();
      if (m.outline.length >= 3) {
        L.polygon(m.outline, { color: m.color, weight: 2, dashArray: "6 4", fillOpacity: 0.06, interactive: false })
          .addTo(layer);
      }
      L.marker(m.office, { icon: officeIcon(m), zIndexOffset: 1000, title: m.name })
        .bindPopup(el("div", "rp-popup-title", L10N.office + " · " + m.name))
        .addTo(layer);
      bounds.extend(m.office);
      layer.addTo(map);
      const routes = [];
      m.routes.forEach(function (r) {
        const rl = L.featureGroup();
        // along the streets where the plan was made on roads, else straight from stop to stop
        const line = r.track && r.track.length
          ? r.track : [m.office].concat(r.stops.map(function (s) { return s.at; }));
        L.polyline(line, canvas ? { color: r.color, weight: 2, opacity: 0.8, renderer: canvas }
          : { color: r.color, weight: 3, opacity: 0.85 })
          .bindPopup(function () { return routePopup(L10N, m, r); })
          .addTo(rl);
        r.stops.forEach(function (s, i) {
          const popup = function () { return shopPopup(L10N, s, r, i + 1, m.visit_dates[s.id] || []); };
          const marker = canvas
            ? L.circleMarker(s.at, { renderer: canvas, radius: 4, color: r.color, weight: 2, fillColor: "#fff",
              fillOpacity: 1 })
            : L.marker(s.at, { icon: stopIcon(r, i + 1), title: s.name });
          marker.bindPopup(popup).addTo(rl);
          bounds.extend(s.at);
        });
        rl.addTo(map);
        routes.push({ route: r, layer: rl });
      });
      groups.push({ manager: m, layer: layer, routes: routes });
    });
    layerControl(map, data, L10N, groups);
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.05));
  };
})();
