// Every page of the app. Adding one: a folder under src/pages/ and one entry here.

import type { ReactNode } from "react";
import type { RouteObject } from "react-router";
import { AuditPage } from "../pages/Audit/AuditPage";
import { CrawlDetailPage } from "../pages/Crawls/CrawlDetailPage";
import { CrawlsPage } from "../pages/Crawls/CrawlsPage";
import { ContentDetailPage } from "../pages/Library/ContentDetailPage";
import { LibraryPage } from "../pages/Library/LibraryPage";
import { DashboardPage } from "../pages/Dashboard/DashboardPage";
import { GeneratePage } from "../pages/Generate/GeneratePage";
import { GenerationPage } from "../pages/Generate/GenerationPage";
import { NotFoundPage } from "../pages/NotFound/NotFoundPage";
import { TeamPage } from "../pages/Team/TeamPage";
import { TemplatesPage } from "../pages/Templates/TemplatesPage";
import { VoicePage } from "../pages/Voice/VoicePage";

export interface AppPage {
  path: string;
  element: ReactNode;
  /** Label in the main navigation; pages without one are reachable only by link. */
  nav?: string;
  /** Listed in the navigation for organization admins only (the page itself says why to others). */
  adminOnly?: boolean;
}

export const pages: AppPage[] = [
  { path: "/", element: <DashboardPage />, nav: "Dashboard" },
  { path: "/crawls", element: <CrawlsPage />, nav: "Crawls" },
  { path: "/crawls/:id", element: <CrawlDetailPage /> },
  { path: "/library", element: <LibraryPage />, nav: "Library" },
  { path: "/library/:id", element: <ContentDetailPage /> },
  { path: "/templates", element: <TemplatesPage />, nav: "Templates" },
  { path: "/generate", element: <GeneratePage />, nav: "Generate" },
  { path: "/generations/:id", element: <GenerationPage /> },
  { path: "/voice", element: <VoicePage />, nav: "Voice" },
  { path: "/team", element: <TeamPage />, nav: "Team" },
  { path: "/audit", element: <AuditPage />, nav: "Audit", adminOnly: true },
];

export const pageRoutes: RouteObject[] = [
  ...pages.map(({ path, element }) => ({ path, element })),
  { path: "*", element: <NotFoundPage /> },
];
