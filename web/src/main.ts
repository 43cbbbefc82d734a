import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { installStatusColors } from "./lib/status.ts";

// The live socket is started by the dashboard once someone is signed in (see Dashboard.svelte).
installStatusColors();
const target = document.getElementById("app");
if (!target) throw new Error("Locus: #app is missing from index.html");
mount(App, { target });
