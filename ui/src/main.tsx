import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { CapabilitiesProvider } from './shared/capabilities-context.tsx';
import './app/styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <CapabilitiesProvider>
      <App />
    </CapabilitiesProvider>
  </StrictMode>,
);
