import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { startLive } from "./lib/live.ts";
import { fleet } from "./lib/state/fleet.svelte.ts";
import { installStatusColors } from "./lib/status.ts";

installStatusColors();
const target = document.getElementById("app");
if (!target) throw new Error("Locus: #app is missing from index.html");
mount(App, { target });
startLive(fleet);
