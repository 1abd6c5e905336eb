/**
 * The widget's styles, applied inside its shadow root only. Sizes are in px, never rem: a
 * host page's root font size must not resize the widget.
 * @module
 */

/** The host element's own styles, set inline with !important: they beat any page rule
 * (`* { all: unset !important }` included). */
export const HOST_STYLE = {
  all: "initial",
  display: "block",
  position: "fixed",
  right: "0",
  bottom: "0",
  width: "0",
  height: "0",
  margin: "0",
  padding: "0",
  border: "0",
  overflow: "visible",
  "z-index": "2147483000",
  visibility: "visible",
  opacity: "1",
  transform: "none",
  filter: "none",
  contain: "none",
};

export const CSS = `
:host { all: initial !important; }
.root {
  --accent: #1d4ed8;
  --on-accent: #ffffff;
  --text: #1f2328;
  --muted: #57606a;
  --line: #d0d7de;
  --bubble: #eef1f4;
  --danger: #b42318;
  --focus: #1d4ed8;
  font: 400 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--text);
  -webkit-font-smoothing: antialiased;
  text-align: left;
  direction: ltr;
  letter-spacing: normal;
  word-spacing: normal;
  text-transform: none;
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, input, textarea { font: inherit; color: inherit; letter-spacing: inherit; }
button { cursor: pointer; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }

.launcher {
  position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px;
  margin: 0; padding: 0; border: 0; border-radius: 50%;
  background: var(--accent); color: var(--on-accent);
  display: flex; align-items: center; justify-content: center;
  box-shadow: 0 4px 14px rgba(0, 0, 0, .25);
  transition: box-shadow .15s ease;
}
.launcher:hover { box-shadow: 0 6px 20px rgba(0, 0, 0, .35); }
.launcher:focus-visible { outline: 3px solid var(--focus); outline-offset: 3px; box-shadow: 0 0 0 3px #fff, 0 4px 14px rgba(0, 0, 0, .25); }
.launcher svg { width: 28px; height: 28px; }
.badge {
  position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: var(--danger); color: #fff; border: 2px solid #fff;
  font-size: 12px; font-weight: 700; line-height: 18px; text-align: center;
}

.panel {
  position: fixed; right: 20px; bottom: 88px; width: 370px; height: 560px;
  max-height: calc(100vh - 108px); max-width: calc(100vw - 40px);
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border: 1px solid var(--line); border-radius: 14px;
  box-shadow: 0 12px 40px rgba(0, 0, 0, .22);
}
.header {
  display: flex; align-items: center; gap: 8px; padding: 12px 10px 12px 16px;
  background: var(--accent); color: var(--on-accent);
}
.header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; line-height: 1.3; }
.header p { margin: 2px 0 0; font-size: 12px; opacity: .9; }
.heading { flex: 1; min-width: 0; }
.icon-button {
  width: 36px; height: 36px; padding: 6px; margin: 0; border: 0; border-radius: 8px;
  background: transparent; color: inherit; display: inline-flex; align-items: center; justify-content: center;
}
.icon-button svg { width: 22px; height: 22px; }
.header .icon-button:hover { background: rgba(255, 255, 255, .18); }
.header .icon-button:focus-visible { outline-color: var(--on-accent); outline-offset: -3px; }

.status { padding: 6px 16px; font-size: 12px; background: #fff8c5; color: #4d2d00; border-bottom: 1px solid #eed888; }
.body { flex: 1; min-height: 0; overflow-y: auto; padding: 14px 12px 6px; background: #fff; overscroll-behavior: contain; }
.intro { margin: 4px 4px 14px; color: var(--muted); }
.intro strong { display: block; color: var(--text); font-size: 15px; margin-bottom: 2px; }
.earlier { display: block; margin: 0 auto 10px; padding: 4px 10px; border: 1px solid var(--line); border-radius: 12px; background: #fff; font-size: 12px; color: var(--muted); }
.messages { display: flex; flex-direction: column; gap: 2px; }

.msg { display: flex; flex-direction: column; max-width: 82%; margin-top: 2px; }
.msg.mine { align-self: flex-end; align-items: flex-end; }
.msg.theirs { align-self: flex-start; align-items: flex-start; }
.msg.first { margin-top: 10px; }
.author { font-size: 12px; color: var(--muted); margin: 0 0 2px 4px; }
.bubble {
  padding: 8px 12px; border-radius: 16px; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--bubble); color: var(--text);
}
.mine .bubble { background: var(--accent); color: var(--on-accent); }
.mine .bubble a { color: inherit; }
.bubble a { color: inherit; text-decoration: underline; }
.bubble.deleted { font-style: italic; background: transparent; border: 1px dashed var(--line); color: var(--muted); }
.bubble.media { padding: 0; background: transparent; border-radius: 12px; }
.bubble.media .caption { margin-top: 4px; padding: 8px 12px; border-radius: 16px; background: var(--bubble); }
.mine .bubble.media { background: transparent; }
.mine .bubble.media .caption { background: var(--accent); color: var(--on-accent); }
.pending .bubble.media { padding: 4px; background: var(--bubble); }
.bubble img { display: block; max-width: 100%; max-height: 240px; height: auto; border-radius: 12px; background: #e5e7eb; object-fit: cover; }
.image-link { display: block; border-radius: 12px; }
.file { display: inline-flex; align-items: center; gap: 6px; padding: 8px 12px; border-radius: 16px; background: var(--bubble); color: var(--text); }
.mine .file { background: var(--accent); color: var(--on-accent); }
.meta { font-size: 11px; color: var(--muted); margin: 2px 6px 0; }
.msg.pending .bubble { opacity: .75; }
.msg.failed .meta { color: var(--danger); }
.retry { margin: 0 0 0 6px; padding: 0; border: 0; background: none; color: var(--accent); text-decoration: underline; font-size: 11px; }
progress { display: block; width: 100%; height: 6px; margin: 6px 0 2px; accent-color: var(--accent); }
.system { align-self: center; max-width: 90%; margin: 10px 0 4px; font-size: 12px; color: var(--muted); text-align: center; }
.seen { align-self: flex-end; font-size: 11px; color: var(--muted); margin: 1px 6px 0; }

.typing { display: flex; align-items: center; gap: 8px; padding: 4px 16px 6px; font-size: 12px; color: var(--muted); }
.dots { display: inline-flex; gap: 3px; }
.dots span { width: 6px; height: 6px; border-radius: 50%; background: var(--muted); animation: blink 1.2s infinite ease-in-out; }
.dots span:nth-child(2) { animation-delay: .2s; }
.dots span:nth-child(3) { animation-delay: .4s; }
@keyframes blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }

.notice { margin: 10px 12px; padding: 12px; border-radius: 10px; background: #f6f8fa; border: 1px solid var(--line); text-align: center; }
.notice p { margin: 0 0 8px; }
.notice.error { background: #fff1f0; border-color: #f4b7b2; color: #7a1b12; }
.primary {
  padding: 8px 14px; border: 0; border-radius: 8px; background: var(--accent); color: var(--on-accent); font-weight: 600;
}
.primary:focus-visible { outline-offset: 2px; }

.composer { display: flex; align-items: flex-end; gap: 6px; padding: 8px 10px 10px; border-top: 1px solid var(--line); background: #fff; }
.composer textarea {
  flex: 1; min-width: 0; min-height: 40px; max-height: 120px; margin: 0; padding: 9px 12px; resize: none;
  border: 1px solid #8c959f; border-radius: 20px; background: #fff; color: var(--text); line-height: 20px; font-size: 14px;
}
.composer textarea::placeholder { color: #6e7781; opacity: 1; }
.composer textarea:focus-visible { outline: 2px solid var(--focus); outline-offset: 0; border-color: var(--focus); }
.composer .icon-button { color: var(--muted); flex: none; width: 40px; height: 40px; }
.composer .icon-button:hover { background: var(--bubble); }
.composer .send { color: var(--accent); }
.composer .icon-button:disabled { opacity: .45; cursor: default; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

@media (max-width: 480px) {
  .panel { inset: 0; right: 0; bottom: 0; width: 100%; height: 100%; max-width: none; max-height: none; border: 0; border-radius: 0; }
  .root.open .launcher { display: none; }
  .launcher { right: 16px; bottom: 16px; }
  .composer textarea { font-size: 16px; }
}
@media (prefers-reduced-motion: reduce) {
  .dots span { animation: none; opacity: .6; }
  .launcher { transition: none; }
}
`;
