// The staff chat: streams an answer from POST /api/v1/ask/stream/ (Server-Sent Events over fetch,
// so it can be stopped), shows it as plain text while it is written, then swaps in the server's
// sanitised HTML of the stored answer. No HTML from the model or a document is ever inserted
// here: streamed text goes in as textContent; HTML comes only from our own templates.
(() => {
  "use strict";

  const root = document.getElementById("chat");
  if (!root) return;
  const strings = JSON.parse(document.getElementById("strings").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const turns = document.getElementById("turns");
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const sendButton = document.getElementById("send");
  const stopButton = document.getElementById("stop");
  const panel = document.getElementById("source-panel");
  const list = document.getElementById("conversation-list");
  let conversationId = root.dataset.conversation || "";
  let controller = null;
  let lastOpener = null;

  const url = (name, id) => root.dataset[name].replace("/0/", `/${id}/`);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function post(target, body, json = true) {
    return fetch(target, {
      method: "POST",
      headers: {
        "X-CSRFToken": csrf,
        Accept: "application/json",
        ...(json ? { "Content-Type": "application/json" } : {}),
      },
      body: json ? JSON.stringify(body) : body,
      credentials: "same-origin",
    });
  }

  function setBusy(busy) {
    sendButton.hidden = busy;
    stopButton.hidden = !busy;
    input.readOnly = busy;
    if (!busy) input.focus();
  }

  function scrollToEnd() {
    turns.lastElementChild?.scrollIntoView({ block: "end" });
  }

  // --- Sidebar -------------------------------------------------------------------------------
  function sidebarEntry(id, title) {
    const li = el("li", "conv current");
    li.dataset.id = id;
    const link = el("a", "", title);
    link.href = url("conversationUrl", id);
    link.setAttribute("aria-current", "page");
    const rename = el("button", "icon rename", "✎");
    rename.type = "button";
    rename.title = rename.ariaLabel = strings.rename;
    const remove = el("button", "icon delete", "✕");
    remove.type = "button";
    remove.title = remove.ariaLabel = strings.delete;
    li.append(link, rename, remove);
    list.querySelector(".empty")?.remove();
    list.querySelectorAll(".current").forEach((n) => n.classList.remove("current"));
    list.prepend(li);
  }

  async function renameConversation(li) {
    const link = li.querySelector("a");
    const title = window.prompt(strings.rename_prompt, link.textContent.trim());
    if (!title || !title.trim()) return;
    const body = new FormData();
    body.append("title", title);
    const response = await post(url("renameUrl", li.dataset.id), body, false);
    if (response.ok) link.textContent = (await response.json()).title;
  }

  async function deleteConversation(li) {
    if (!window.confirm(strings.delete_confirm)) return;
    const response = await post(url("deleteUrl", li.dataset.id), new FormData(), false);
    if (!response.ok) return;
    if (li.dataset.id === conversationId) {
      window.location.href = root.dataset.chatUrl;
    } else {
      li.remove();
    }
  }

  // --- Asking ----------------------------------------------------------------------------------
  function parseEvent(raw) {
    let event = "message";
    const data = [];
    for (const line of raw.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    return { event, data: data.length ? JSON.parse(data.join("\n")) : {} };
  }

  async function replaceWithStored(answerNode, messageId) {
    const response = await fetch(url("answerUrl", messageId), { credentials: "same-origin" });
    if (!response.ok) throw new Error(`answer ${response.status}`);
    const holder = document.createElement("div");
    holder.innerHTML = await response.text(); // our own template's output
    answerNode.replaceWith(holder.firstElementChild);
  }

  // A source's button, as the stored answer's template draws it: number, title, page. Its spans
  // (the sentences the model read) go to the viewer, which highlights them.
  function sourceButton(source) {
    const button = el("button", "source-link");
    button.type = "button";
    button.dataset.chunk = source.chunk_id;
    button.dataset.n = source.n;
    if (source.spans?.length) button.dataset.spans = spansParam(source.spans);
    const where = source.page_label || strings.page.replace("{page}", String(source.page));
    button.append(el("span", "n", String(source.n)), ` ${source.title} · ${where}`);
    return button;
  }

  const spansParam = (spans) => spans.map(([a, b]) => `${a}-${b}`).join(",");

  // Shown as soon as retrieval ends, before the model writes a word.
  function showSources(answer, sources) {
    if (!sources.length) return;
    const list = el("ol", "sources pending");
    for (const source of sources) {
      const li = el("li");
      li.append(sourceButton(source));
      list.append(li);
    }
    answer.append(el("h3", "sources-title", strings.sources_read), list);
  }

  async function ask(question) {
    document.getElementById("welcome")?.remove();
    const turn = el("section", "turn");
    turn.append(el("div", "question", question));
    const answer = el("div", "answer streaming");
    const status = el("p", "status muted", strings.thinking);
    status.setAttribute("role", "status");
    const body = el("div", "body streamed");
    answer.append(status, body);
    turn.append(answer);
    turns.append(turn);
    scrollToEnd();

    controller = new AbortController();
    setBusy(true);
    let finished = false;
    try {
      const payload = { question };
      if (conversationId) payload.conversation_id = Number(conversationId);
      const response = await fetch(root.dataset.askUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "text/event-stream, application/json",
          "X-CSRFToken": csrf,
        },
        body: JSON.stringify(payload),
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!response.ok) {
        // The server's reason, from its one error body ({"error": {"code", "message"}}).
        const data = await response.json().catch(() => ({}));
        throw new Error(data.error?.message || strings.failed);
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const { event, data } = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (event === "conversation" && String(data.conversation_id) !== conversationId) {
            conversationId = String(data.conversation_id);
            history.replaceState(null, "", url("conversationUrl", conversationId));
            sidebarEntry(conversationId, question.slice(0, 80));
          } else if (event === "sources") {
            status.textContent = strings.writing;
            showSources(answer, data.sources);
          } else if (event === "queue") {
            status.textContent = data.ahead
              ? strings.queued.replace("{n}", String(data.ahead))
              : strings.writing;
          } else if (event === "token") {
            body.textContent += data.text;
            scrollToEnd();
          } else if (event === "done") {
            finished = true;
            await replaceWithStored(answer, data.message_id);
          } else if (event === "error") {
            throw new Error(data.error?.message || strings.failed);
          }
        }
      }
      if (!finished) throw new Error(strings.failed);
    } catch (error) {
      answer.classList.remove("streaming");
      status.remove();
      if (error.name === "AbortError") {
        answer.classList.add("stopped");
        answer.append(el("p", "muted stopped-note", strings.stopped));
      } else {
        answer.classList.add("failed");
        const note = el("p", "error", error.message || strings.failed);
        note.setAttribute("role", "alert");
        answer.append(note);
      }
    } finally {
      controller = null;
      setBusy(false);
      scrollToEnd();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question || controller) return;
    input.value = "";
    ask(question);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  stopButton.addEventListener("click", () => controller?.abort());

  // --- Source viewer ---------------------------------------------------------------------------
  async function openSource(target, opener) {
    lastOpener = opener;
    document.querySelectorAll(".cite.active, .source-link.active").forEach((n) => {
      n.classList.remove("active");
    });
    opener.classList.add("active");
    panel.hidden = false;
    panel.setAttribute("aria-busy", "true");
    document.body.classList.add("source-open");
    try {
      const response = await fetch(target, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      panel.innerHTML = await response.text(); // our own template's output
    } catch (_) {
      panel.replaceChildren(el("p", "error", strings.source_failed));
    }
    panel.removeAttribute("aria-busy");
    panel.focus();
    panel.querySelector("#passage")?.scrollIntoView({ block: "center" });
  }

  function closeSource() {
    panel.hidden = true;
    panel.replaceChildren();
    document.body.classList.remove("source-open");
    lastOpener?.focus();
  }

  // --- Answer actions --------------------------------------------------------------------------
  async function copyText(button) {
    const text = button.dataset.text;
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      const area = el("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.textContent;
    button.textContent = strings.copied;
    setTimeout(() => (button.textContent = label), 1500);
  }

  async function sendFeedback(answer, rating, comment) {
    const response = await post(url("feedbackUrl", answer.dataset.message), { rating, comment });
    if (!response.ok) return;
    const saved = await response.json();
    answer.dataset.rating = saved.rating;
    answer.querySelectorAll(".vote").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.rating) === saved.rating));
    });
    answer.querySelector(".comment-form").hidden = saved.rating !== -1;
    answer.querySelector(".feedback-status").textContent = saved.rating ? strings.thanks : "";
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    const answer = target.closest(".answer");
    if (target.matches(".cite, .source-link")) {
      const spans = target.dataset.spans ? `?spans=${target.dataset.spans}` : "";
      openSource(url("sourceUrl", target.dataset.chunk) + spans, target);
    } else if (target.matches(".page-link")) {
      openSource(target.dataset.url, target);
    } else if (target.matches(".source-panel .close")) {
      closeSource();
    } else if (target.matches(".copy")) {
      copyText(target);
    } else if (target.matches(".vote") && answer) {
      const rating = Number(target.dataset.rating);
      const current = Number(answer.dataset.rating || 0);
      const comment = answer.querySelector("textarea[name=comment]")?.value || "";
      sendFeedback(answer, current === rating ? 0 : rating, rating === -1 ? comment : "");
    } else if (target.matches(".conv .rename")) {
      renameConversation(target.closest(".conv"));
    } else if (target.matches(".conv .delete")) {
      deleteConversation(target.closest(".conv"));
    } else if (target.matches(".sidebar-toggle")) {
      const open = document.body.classList.toggle("sidebar-open");
      target.setAttribute("aria-expanded", String(open));
    }
  });

  document.addEventListener("submit", (event) => {
    if (!event.target.matches(".comment-form")) return;
    event.preventDefault();
    const answer = event.target.closest(".answer");
    sendFeedback(answer, -1, event.target.elements.comment.value);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) closeSource();
  });

  if (turns.lastElementChild) scrollToEnd();
  input.focus();
})();
