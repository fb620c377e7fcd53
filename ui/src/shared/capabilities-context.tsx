/** The API's capabilities, read once per page load and shared by every page. */
import type { ReactNode } from 'react';
import { createContext, useContext, useEffect, useState } from 'react';
import { api } from './api.ts';
import { BASELINE, capabilitiesFromOpenApi, type Capabilities } from './capabilities.ts';

const CapabilitiesContext = createContext<Capabilities>(BASELINE);

export function CapabilitiesProvider({ children }: { children: ReactNode }) {
  const [capabilities, setCapabilities] = useState<Capabilities>(BASELINE);
  useEffect(() => {
    const controller = new AbortController();
    api.openApi({ signal: controller.signal }).then(
      (doc) => setCapabilities(capabilitiesFromOpenApi(doc)),
      () => undefined, // an older API without the document: offer the baseline
    );
    return () => controller.abort();
  }, []);
  return (
    <CapabilitiesContext.Provider value={capabilities}>{children}</CapabilitiesContext.Provider>
  );
}

export const useCapabilities = () => useContext(CapabilitiesContext);
