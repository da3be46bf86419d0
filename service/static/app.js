// The chat page: sign-in, conversations, the streamed chat and the todo panel, on the service's JSON API.
// Every piece of user or model text goes into the page through textContent, never as HTML, and the page's
// Content Security Policy allows only this script: a message can never become markup or code.
"use strict";

const TOKEN_KEY = "todo-chat.token";
const CONVERSATION_KEY = "todo-chat.conversation";
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  userId: null,
  conversationId: null,
  busy: false,
};

// ---------------------------------------------------------------------------------------------------------
// Small DOM helper: builds elements from text only.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// ---------------------------------------------------------------------------------------------------------
// The API, with errors turned into sentences a person can act on.

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function errorFrom(response) {
  let code = "error";
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = await response.json();
    code = body.error.code;
    message = body.error.message;
  } catch {
    // Not our JSON error (a proxy's page, say): the status says enough.
  }
  return new ApiError(response.status, code, message, response.headers.get("Retry-After"));
}

const NETWORK_ERROR = new ApiError(0, "network", "network error");

function describe(error) {
  if (!(error instanceof ApiError)) return "Something went wrong on this page. Reload it and try again.";
  if (error.status === 0) return "Cannot reach the service. Check your connection, then try again.";
  if (error.status === 401) return "Your session has expired or the token is not valid. Sign in again.";
  if (error.status === 429) {
    const wait = Number.parseInt(error.retryAfter, 10);
    return `Too many requests. Try again in ${Number.isFinite(wait) ? `${wait} s` : "a moment"}.`;
  }
  if (error.status >= 500) return `The service is unavailable right now (${error.message}). Try again shortly.`;
  return error.message;
}

async function request(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetch(`/api/${state.userId}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw NETWORK_ERROR;
  }
}

async function api(path, options) {
  const response = await request(path, options);
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

// A failed call: an expired token ends the session, anything else is shown in the banner.
function report(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut(describe(error));
  } else {
    showBanner(describe(error));
  }
}

function showBanner(text) {
  const banner = $("banner");
  banner.textContent = text;
  banner.hidden = false;
}

function hideBanner() {
  $("banner").hidden = true;
}

// ---------------------------------------------------------------------------------------------------------
// Sign-in: a pasted token, or `#token=...` in the URL (what `make run` prints).

function claimsOf(token) {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    return JSON.parse(atob(base64));
  } catch {
    return null;
  }
}

async function signIn(token) {
  const claims = claimsOf(token);
  if (!claims || typeof claims.sub !== "string" || !UUID_RE.test(claims.sub)) {
    showSignIn("That does not look like a token of this service.");
    return;
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) {
    showSignIn("That token has expired. Mint a new one with `python -m service token USER_ID`.");
    return;
  }
  state.token = token;
  state.userId = claims.sub.toLowerCase();
  try {
    await loadConversations();
  } catch (error) {
    state.token = null;
    showSignIn(error instanceof ApiError && error.status === 401 ? "The service refused that token." : describe(error));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  showApp();
  await Promise.all([refreshTodos(), openConversation(sessionStorage.getItem(CONVERSATION_KEY))]);
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(CONVERSATION_KEY);
  state.token = null;
  state.userId = null;
  state.conversationId = null;
  showSignIn(message);
}

function showSignIn(message) {
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("toggle-conversations").hidden = true;
  $("toggle-todos").hidden = true;
  $("model-badge").hidden = true;
  $("who").textContent = "";
  $("sign-in").hidden = false;
  const error = $("sign-in-error");
  error.textContent = message || "";
  error.hidden = !message;
  $("token-input").focus();
}

function showApp() {
  $("sign-in").hidden = true;
  $("token-input").value = "";
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("toggle-conversations").hidden = false;
  $("toggle-todos").hidden = false;
  $("who").textContent = `User ${state.userId}`;
  $("who").title = state.userId;
  $("message-input").focus();
}

// ---------------------------------------------------------------------------------------------------------
// Conversations: list, open, new, rename, delete.

async function loadConversations() {
  const { conversations } = await api("/conversations?limit=50");
  const list = $("conversation-list");
  list.replaceChildren(...conversations.map(conversationItem));
  $("no-conversations").hidden = conversations.length > 0;
  markActiveConversation();
}

function conversationItem(conversation) {
  const item = el("li");
  item.dataset.id = conversation.id;
  const title = conversation.title || "Untitled chat";
  const open = el("button", "open", title);
  open.type = "button";
  open.title = title;
  open.addEventListener("click", () => {
    closePanels();
    openConversation(conversation.id);
  });
  const rename = el("button", "action", "✎");
  rename.type = "button";
  rename.setAttribute("aria-label", `Rename “${title}”`);
  rename.addEventListener("click", () => startRename(item, conversation));
  const remove = el("button", "action", "✕");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete “${title}”`);
  remove.addEventListener("click", () => confirmDelete(remove, conversation.id));
  item.append(open, rename, remove);
  return item;
}

function markActiveConversation() {
  for (const item of $("conversation-list").children) {
    const active = item.dataset.id === state.conversationId;
    item.classList.toggle("active", active);
    if (active) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
}

function startRename(item, conversation) {
  const form = el("form");
  const input = el("input");
  input.value = conversation.title || "";
  input.maxLength = 200;
  input.required = true;
  input.setAttribute("aria-label", "New title");
  form.append(input);
  item.replaceChildren(form);
  input.focus();
  input.select();
  let finished = false;
  const finish = async (save) => {
    if (finished) return;
    finished = true;
    const title = input.value.trim();
    if (save && title && title !== conversation.title) {
      try {
        await api(`/conversations/${conversation.id}`, { method: "PATCH", body: { title } });
      } catch (error) {
        report(error);
      }
    }
    if (state.token) await loadConversations().catch(report);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    finish(true);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

// Deleting asks for a second click instead of a dialog, so the page never blocks on a prompt.
function confirmDelete(button, id) {
  if (!button.classList.contains("confirm")) {
    button.classList.add("confirm");
    const idle = button.textContent;
    button.textContent = "Delete?";
    setTimeout(() => {
      button.classList.remove("confirm");
      button.textContent = idle;
    }, 3000);
    return;
  }
  deleteConversation(id);
}

async function deleteConversation(id) {
  try {
    await api(`/conversations/${id}`, { method: "DELETE" });
  } catch (error) {
    report(error);
    return;
  }
  if (id === state.conversationId) newConversation();
  await loadConversations().catch(report);
}

function newConversation() {
  state.conversationId = null;
  sessionStorage.removeItem(CONVERSATION_KEY);
  $("messages").replaceChildren($("empty-chat"));
  $("empty-chat").hidden = false;
  hideBanner();
  markActiveConversation();
  closePanels();
  $("message-input").focus();
}

async function openConversation(id) {
  if (!id) {
    newConversation();
    return;
  }
  let conversation;
  try {
    conversation = await api(`/conversations/${id}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) newConversation();
    else report(error);
    return;
  }
  state.conversationId = conversation.id;
  sessionStorage.setItem(CONVERSATION_KEY, conversation.id);
  hideBanner();
  renderHistory(conversation.messages);
  markActiveConversation();
}

// Stored messages, drawn with the same pieces as a live turn: a user bubble, then per answer its chips and text.
function renderHistory(messages) {
  const container = $("messages");
  container.replaceChildren($("empty-chat"));
  $("empty-chat").hidden = messages.length > 0;
  let turn = null;
  const names = new Map();
  for (const message of messages) {
    if (message.role === "user") {
      addUserMessage(message.content || "");
      turn = null;
      continue;
    }
    turn = turn || new AssistantTurn();
    if (message.kind === "function_call") {
      names.set(message.call_id, message.tool_name);
      turn.toolCall({ id: message.call_id, name: message.tool_name, arguments: message.arguments });
    } else if (message.kind === "function_call_output") {
      turn.toolResult({ call_id: message.call_id, name: names.get(message.call_id), output: message.output });
    } else if (message.kind === "message") {
      turn.setText(message.content || "");
      if (turn.changed) turn.offerUndo(message.id);
      turn = null;
    }
  }
  scrollToEnd(true);
}

// ---------------------------------------------------------------------------------------------------------
// Messages and tool chips.

function addUserMessage(text) {
  $("empty-chat").hidden = true;
  const message = el("div", "msg user");
  message.append(el("div", "bubble", text));
  $("messages").append(message);
  return message;
}

function summarizeCall(call) {
  const args = call.arguments && typeof call.arguments === "object" ? call.arguments : {};
  if (call.name === "add_todo" && args.title) return args.title;
  if (call.name === "list_todos") return args.completed === true ? "done" : args.completed === false ? "open" : "all";
  if (call.name === "update_todo") {
    const changed = ["title", "description", "completed", "due_date"].filter((key) => args[key] != null);
    return changed.map((key) => (key === "completed" ? (args.completed ? "done" : "reopen") : key)).join(", ");
  }
  return "";
}

// What a result adds to its chip: a count for a list, the todo's title where the call did not show it.
function summarizeResult(result) {
  const output = result.output;
  if (output && typeof output === "object") {
    if (output.error) return { ok: false, text: `✗ ${output.error.code || "error"}` };
    if (Array.isArray(output.todos)) return { ok: true, text: `→ ${output.todos.length} found` };
    if (result.name !== "add_todo" && output.todo && output.todo.title) {
      return { ok: true, text: `✓ “${output.todo.title}”` };
    }
  }
  return { ok: true, text: "✓" };
}

class AssistantTurn {
  constructor() {
    this.root = el("div", "msg assistant");
    this.chips = el("div", "chips");
    this.chips.hidden = true;
    this.bubble = el("div", "bubble");
    this.meta = el("div", "meta");
    this.meta.hidden = true;
    this.byCallId = new Map();
    this.root.append(this.chips, this.bubble, this.meta);
    $("empty-chat").hidden = true;
    $("messages").append(this.root);
  }

  toolCall(call) {
    const summary = summarizeCall(call);
    const chip = el("span", "chip", summary ? `${call.name} · ${summary}` : call.name);
    chip.title = `${call.name}(${JSON.stringify(call.arguments)})`;
    chip.dataset.tool = call.name;
    this.byCallId.set(call.id, chip);
    this.chips.append(chip);
    this.chips.hidden = false;
  }

  toolResult(result) {
    const chip = this.byCallId.get(result.call_id);
    if (!chip) return;
    const { ok, text } = summarizeResult(result);
    if (ok && CHANGING_TOOLS.has(result.name)) this.changed = true;
    chip.classList.add(ok ? "ok" : "failed");
    chip.textContent = `${chip.textContent} ${text}`;
    chip.title = `${chip.title}\n→ ${JSON.stringify(result.output)}`;
  }

  append(text) {
    this.bubble.textContent += text;
  }

  setText(text) {
    this.bubble.textContent = text;
  }

  note(text, className) {
    this.meta.append(el("span", className, text));
    this.meta.hidden = false;
  }

  refuse(guardrail) {
    this.root.classList.add("refusal");
    this.setText(guardrail.message);
  }

  fail(text) {
    this.root.classList.add("failed");
    this.setText(text);
  }

  // The turn paused before deleting (or changing) several todos: Approve / Reject, once.
  askApproval(approvals) {
    const box = el("div", "approval");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Waiting for your approval");
    const list = el("ul");
    for (const approval of approvals) list.append(el("li", null, approval.summary));
    const approve = el("button", "primary", "Approve");
    const reject = el("button", "link-button", "Reject");
    approve.type = reject.type = "button";
    const decide = (yes) => {
      approve.disabled = reject.disabled = true;
      box.classList.add(yes ? "approved" : "rejected");
      decideApprovals(approvals, yes);
    };
    approve.addEventListener("click", () => decide(true));
    reject.addEventListener("click", () => decide(false));
    box.append(list, approve, reject);
    this.root.append(box);
  }

  // Undo every change this turn made (POST /changes/revert with its message id), then refresh the todos.
  offerUndo(messageId) {
    const button = el("button", "link-button undo", "Undo");
    button.type = "button";
    button.title = "Put back everything this turn changed";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const body = await api("/changes/revert", { method: "POST", body: { message_id: messageId } });
        this.note(`Undone (${body.reverted.length} change${body.reverted.length === 1 ? "" : "s"}).`, "undone");
        button.hidden = true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) report(error);
        else this.note(`Could not undo: ${describe(error)}`, "error");
        button.disabled = false;
      }
      refreshTodos();
    });
    this.meta.append(button);
    this.meta.hidden = false;
  }
}

// Tools whose success changes the todo list: a turn with one of them gets an Undo button.
const CHANGING_TOOLS = new Set(["add_todo", "add_todos", "update_todo", "delete_todo", "undo_last_turn"]);

// Approve or reject every call a paused turn waits on; the resumed turn streams in as a new answer.
async function decideApprovals(approvals, approve) {
  const decisions = approvals.map((approval) => ({ id: approval.id, approve }));
  await streamTurn(`/conversations/${state.conversationId}/approvals/stream`, { decisions });
  refreshTodos();
}

function scrollToEnd(force) {
  const container = $("messages");
  const nearEnd = container.scrollHeight - container.scrollTop - container.clientHeight < 120;
  if (force || nearEnd) container.scrollTop = container.scrollHeight;
}

// ---------------------------------------------------------------------------------------------------------
// Sending: POST /chat/stream read with fetch (EventSource can neither POST nor send a token).

// Calls `onEvent(name, data)` for each server-sent event of the response body, in order.
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue; // a heartbeat comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

async function send(text) {
  addUserMessage(text);
  await streamTurn("/chat/stream", { message: text, conversation_id: state.conversationId });
}

// One streamed turn (a chat message, or the decisions on a paused turn), drawn as it arrives.
async function streamTurn(path, body) {
  state.busy = true;
  $("send").disabled = true;
  hideBanner();
  const turn = new AssistantTurn();
  scrollToEnd(true);
  let finished = false;
  try {
    const response = await request(path, { method: "POST", body });
    if (!response.ok) throw await errorFrom(response);
    await readEvents(response.body, (name, data) => {
      finished = handleEvent(turn, name, data) || finished;
      scrollToEnd(false);
    });
    if (!finished) {
      turn.fail("The connection closed before the answer was complete. Reload the conversation to see what was saved.");
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      report(error);
      return;
    }
    turn.fail(error instanceof ApiError ? describe(error) : describe(NETWORK_ERROR));
  } finally {
    state.busy = false;
    $("send").disabled = false;
  }
}

// One server-sent event of a turn; true once the turn has ended (done or error).
function handleEvent(turn, name, data) {
  switch (name) {
    case "conversation":
      if (data.conversation_id !== state.conversationId) {
        state.conversationId = data.conversation_id;
        sessionStorage.setItem(CONVERSATION_KEY, data.conversation_id);
        loadConversations().catch(report);
      }
      return false;
    case "tool_call":
      turn.toolCall(data);
      return false;
    case "tool_result":
      turn.toolResult(data);
      refreshTodos();
      return false;
    case "delta":
      turn.append(data.text);
      return false;
    case "guardrail":
      turn.refuse(data);
      return false;
    case "approval":
      return false; // the same approvals come with `done`, which draws them
    case "done":
      if (data.guardrail) turn.refuse(data.guardrail);
      else turn.setText(data.response);
      if (data.status === "awaiting_approval") turn.askApproval(data.approvals);
      else if (turn.changed) turn.offerUndo(data.message_id);
      if (data.using_stub) turn.note("offline model", "badge");
      $("model-badge").hidden = !data.using_stub;
      loadConversations().catch(report);
      return true;
    case "error":
      turn.fail(`Sorry, this turn failed: ${data.error.message}`);
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The todo panel: refreshed after every tool result; its checkboxes tick todos directly.

let todosLoading = null;
let todosStale = false;

// Refreshes never overlap: one asked for during a load runs once that load ends.
function refreshTodos() {
  if (todosLoading) {
    todosStale = true;
    return todosLoading;
  }
  todosLoading = loadTodos()
    .catch(report)
    .finally(() => {
      todosLoading = null;
      if (todosStale) {
        todosStale = false;
        refreshTodos();
      }
    });
  return todosLoading;
}

async function loadTodos() {
  if (!state.token) return;
  const { todos } = await api("/todos?limit=100");
  $("todo-list").replaceChildren(...todos.map(todoItem));
  $("no-todos").hidden = todos.length > 0;
}

function todoItem(todo) {
  const item = el("li", todo.completed ? "done" : "");
  item.dataset.id = todo.id;
  const label = el("label");
  const box = el("input");
  box.type = "checkbox";
  box.checked = todo.completed;
  box.addEventListener("change", () => tick(item, box, todo));
  const text = el("span", "title", todo.title);
  if (todo.due_date) text.append(el("span", "due", `due ${todo.due_date}`));
  label.append(box, text);
  item.append(label);
  return item;
}

async function tick(item, box, todo) {
  box.disabled = true;
  try {
    const updated = await api(`/todos/${todo.id}`, { method: "PATCH", body: { completed: box.checked } });
    todo.completed = updated.completed;
    item.classList.toggle("done", updated.completed);
  } catch (error) {
    box.checked = todo.completed;
    report(error);
  } finally {
    box.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Panels on a narrow screen, the composer, and start-up.

function togglePanel(button, panelId) {
  const panel = $(panelId);
  const open = !panel.classList.contains("open");
  closePanels();
  panel.classList.toggle("open", open);
  button.setAttribute("aria-expanded", String(open));
}

function closePanels() {
  for (const [button, panel] of [
    ["toggle-conversations", "conversations"],
    ["toggle-todos", "todos"],
  ]) {
    $(panel).classList.remove("open");
    $(button).setAttribute("aria-expanded", "false");
  }
}

function fitComposer() {
  const input = $("message-input");
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight}px`;
}

function submitMessage() {
  const input = $("message-input");
  const text = input.value;
  if (state.busy || !text.trim()) return;
  input.value = "";
  fitComposer();
  send(text);
}

function start() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token-input").value.trim());
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("new-conversation").addEventListener("click", newConversation);
  $("refresh-todos").addEventListener("click", refreshTodos);
  $("toggle-conversations").addEventListener("click", (event) => togglePanel(event.currentTarget, "conversations"));
  $("toggle-todos").addEventListener("click", (event) => togglePanel(event.currentTarget, "todos"));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    submitMessage();
  });
  $("message-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    }
  });
  $("message-input").addEventListener("input", fitComposer);

  // `#token=...` signs in, then leaves the address bar so the token is not bookmarked or shared.
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  const token = fromFragment || sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token);
  else showSignIn("");
}

start();
