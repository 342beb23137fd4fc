import { useEffect, useRef } from "react";
import { Link, NavLink, Outlet, ScrollRestoration, useLocation } from "react-router";
import { useCurrentOrganization } from "../api/queries";
import { useAuth } from "../auth/AuthContext";
import { OrganizationGate } from "./OrganizationGate";
import { pages } from "./routes";
import { UsageBanner } from "./UsageBanner";

export function AppLayout() {
  const { accountControls } = useAuth();
  const isAdmin = useCurrentOrganization().data?.role === "admin";
  const navPages = pages.filter((page) => page.nav && (!page.adminOnly || isAdmin));
  const mainRef = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  const previousPath = useRef(pathname);

  // After client-side navigation, move focus to the new page as a full page load would;
  // <ScrollRestoration> below puts the new page at its top (or back where it was).
  useEffect(() => {
    if (previousPath.current === pathname) return;
    previousPath.current = pathname;
    mainRef.current?.focus({ preventScroll: true });
  }, [pathname]);
  return (
    <div className="app-shell">
      <ScrollRestoration />
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <Link to="/" className="brand">
            <span className="brand-mark" aria-hidden="true">
              V
            </span>
            VoiceForge
          </Link>
          <nav className="main-nav" aria-label="Main">
            <ul>
              {navPages.map((page) => (
                <li key={page.path}>
                  <NavLink to={page.path} end={page.path === "/"}>
                    {page.nav}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="header-account">{accountControls}</div>
        </div>
      </header>
      <main id="main" ref={mainRef} className="app-main" tabIndex={-1}>
        <OrganizationGate>
          <UsageBanner />
          <Outlet />
        </OrganizationGate>
      </main>
    </div>
  );
}
