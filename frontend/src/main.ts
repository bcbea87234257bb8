import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { installZoom } from './lib/zoom';
import { localStore } from './lib/storage';
import './stores/textsize'; // the remembered text size, before the first paint

installZoom(window, document.documentElement, localStore()); // none in a private window: the zoom is not remembered

const app = mount(App, { target: document.getElementById('app')! });

export default app;
