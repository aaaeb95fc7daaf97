// The add-a-site page's live preview: asks POST /api/preview as the user types, shows what it finds.
"use strict";
(function () {
  const form = document.getElementById("source-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const status = $("preview-status"), layoutLine = $("preview-layout"), table = $("preview-posts");
  const candidates = $("candidates"), candidateList = $("candidate-list");
  const listsBox = $("lists"), lists = $("list-list");
  let sequence = 0, timer = null;

  function table_of_form() {
    const data = new FormData(form), out = { selectors: {} };
    for (const [key, value] of data.entries()) {
      if (key === "csrf_token") continue;
      if (key.startsWith("selectors.")) out.selectors[key.slice(10)] = value;
      else out[key] = value;
    }
    return out;
  }

  function text(tag, value, attrs) {
    const node = document.createElement(tag);
    node.textContent = value;
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function show(answer) {
    status.className = answer.error ? "error" : "facts";
    const posts = answer.posts || [];
    status.textContent = answer.error || (posts.length + " post(s) found at " + answer.url);
    status.setAttribute("role", answer.error ? "alert" : "status");
    layoutLine.hidden = !answer.layout;
    if (answer.layout) {
      layoutLine.textContent = "";
      layoutLine.append("Layout: ", text("strong", answer.layout, { id: "chosen-layout" }));
      if (answer.feed_url) layoutLine.append(" · the page announces its own feed: ", text("code", answer.feed_url));
    }
    candidateList.textContent = "";
    const others = (answer.candidates || []).filter((c) => c.posts > 0);
    candidates.hidden = others.length === 0;
    for (const c of others) {
      const item = document.createElement("li");
      const pick = text("button", c.layout + " (" + c.posts + ")", { type: "button", "data-layout": c.layout, class: "candidate" });
      pick.addEventListener("click", () => { $("layout").value = c.layout; preview(); });
      if (c.layout === answer.layout) pick.setAttribute("aria-current", "true");
      item.append(pick, " " + c.titles.join(" · "));
      candidateList.append(item);
    }
    lists.textContent = "";
    listsBox.hidden = !(answer.lists || []).length;
    for (const list of answer.lists || []) {
      const item = document.createElement("li");
      const pick = text("button", "use", { type: "button", "data-item": list.item, class: "list" });
      pick.addEventListener("click", () => {
        $("layout").value = "selectors";
        $("selectors").open = true;
        $("selector-item").value = list.item;
        preview();
      });
      item.append(pick, " ", text("code", list.item), " · " + list.records + " records · score " + list.score +
        (list.chosen ? " · auto's choice" : ""));
      if (list.chosen) item.className = "chosen";
      lists.append(item);
    }
    const body = table.tBodies[0];
    body.textContent = "";
    table.hidden = posts.length === 0;
    for (const post of posts) {
      const row = document.createElement("tr");
      row.className = "post";
      // as the feed will publish it: the date (and time, when the page shows one) in the source's zone
      const shown = post.date ? post.date.slice(0, 16).replace("T00:00", "").replace("T", " ") : "no date";
      const date = text("td", shown, { class: "date" });
      date.title = (post.date || "") + (post.date_shown ? " · shown as " + post.date_shown : "") +
        (post.date_evidence ? " (" + post.date_evidence + ")" : "");
      const cell = document.createElement("td");
      const safe = /^https?:\/\//i.test(post.link || "");  // never a javascript: URL from the page
      const link = text("a", post.title, safe ? { href: post.link, rel: "noopener noreferrer nofollow", class: "title" }
                                              : { class: "title" });
      cell.append(link, text("div", post.link || "", { class: "link facts" }));
      row.append(date, cell);
      body.append(row);
    }
  }

  async function preview() {
    const wanted = table_of_form();
    if (!wanted.url.trim()) return;
    const mine = ++sequence;
    status.className = "facts";
    status.textContent = "Reading " + wanted.url + " …";
    try {
      const answer = await fetch(form.dataset.previewUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": form.elements.csrf_token.value },
        body: JSON.stringify(wanted),
        credentials: "same-origin",
      });
      const body = await answer.json().catch(() => ({ error: "the service answered " + answer.status }));
      if (mine === sequence) show(body);
    } catch (error) {
      if (mine === sequence) show({ error: "the service did not answer: " + error });
    }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(preview, 500);
  }

  $("url").addEventListener("input", () => {
    const name = $("name");
    if (!name.readOnly && !name.dataset.typed) {
      try { name.value = new URL($("url").value).hostname.replace(/^www\./, "").split(".")[0].toLowerCase().replace(/[^a-z0-9_-]/g, "-"); } catch (e) { /* not a URL yet */ }
    }
    later();
  });
  $("name").addEventListener("input", () => { $("name").dataset.typed = "1"; });
  $("layout").addEventListener("change", preview);
  $("fetch").addEventListener("change", preview);
  $("wait_for").addEventListener("input", later);
  $("timezone").addEventListener("change", preview);
  for (const input of document.querySelectorAll("#selectors input")) input.addEventListener("input", later);
  if ($("url").value.trim()) preview();
})();
