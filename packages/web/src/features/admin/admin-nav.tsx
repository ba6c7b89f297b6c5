/** The administration pages' own navigation, above each of them. */
import type { ComponentType, ReactNode } from 'react';
import { Link, useLocation, type PageProps } from '../../app/router';
import { ADMIN_SECTIONS } from './sections';
import './admin.css';

export function AdminNav(): ReactNode {
  const { pathname } = useLocation();
  return (
    <nav aria-label="Administration" className="admin-nav">
      <ul>
        {ADMIN_SECTIONS.map((section) => (
          <li key={section.to}>
            <Link to={section.to} {...(pathname === section.to ? { 'aria-current': 'page' as const } : {})}>
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function withAdminNav(Page: ComponentType<PageProps>): ComponentType<PageProps> {
  function AdminPage(props: PageProps): ReactNode {
    return (
      <>
        <AdminNav />
        <Page {...props} />
      </>
    );
  }
  return AdminPage;
}

/** /console/admin: what each page is for. */
export function AdminHome(): ReactNode {
  return (
    <>
      <p>What you may do here is what your permission set allows; a page says so plainly when it does not.</p>
      <ul className="admin-sections">
        {ADMIN_SECTIONS.map((section) => (
          <li key={section.to}>
            <Link to={section.to}>{section.label}</Link>: {section.about}
          </li>
        ))}
      </ul>
    </>
  );
}
