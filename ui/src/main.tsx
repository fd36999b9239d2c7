/** Entry of the dashboard page: theme first (before the first paint), then the app. */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.tsx';
import { applyTheme, storedTheme } from './theme.ts';

applyTheme(storedTheme());
const root = document.getElementById('app');
if (root !== null) render(<App />, root);
