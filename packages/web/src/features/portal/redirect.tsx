import { useEffect, type ReactNode } from 'react';
import { navigate } from '../../app/router';

/** `/`: the portal (which asks to sign in first when need be). */
export function Redirect(): ReactNode {
  useEffect(() => {
    navigate('/portal', { replace: true });
  }, []);
  return null;
}
