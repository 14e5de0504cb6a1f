// Makes the ES module builds of xterm.js and the one addon the first prompt needs the globals
// src/xterm.rs binds (`Terminal`, `FitAddon.FitAddon`), as their UMD builds would. The module
// builds are smaller (xterm.mjs is 88 KB gzipped against 120 KB for xterm.js), and a module
// script does not block parsing. index.html runs this before the wasm's boot module; module
// scripts run in document order, so the globals are there first.
import { Terminal } from './xterm.mjs';
import { FitAddon } from './addon-fit.mjs';

globalThis.Terminal = Terminal;
globalThis.FitAddon = { FitAddon };
