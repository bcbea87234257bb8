import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { installZoom } from './lib/zoom';
import './stores/textsize'; // the remembered text size, before the first paint

let storage: Storage | undefined;
try {
  storage = localStorage;
} catch {
  storage = undefined; // a private window: the zoom is not remembered
}
installZoom(window, document.documentElement, storage);

const app = mount(App, { target: document.getElementById('app')! });

export default app;
