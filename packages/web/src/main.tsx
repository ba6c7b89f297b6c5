import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/layout';
import { CONSOLE_NAV, ROUTES } from './app/routes';
import './app/styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App routes={ROUTES} consoleNav={CONSOLE_NAV} />
  </StrictMode>,
);
