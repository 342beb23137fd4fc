import { createBrowserRouter, RouterProvider } from "react-router";
import { AuthProvider } from "../auth/AuthProvider";
import { AppLayout } from "./AppLayout";
import { pageRoutes } from "./routes";
import { SessionProviders } from "./SessionProviders";
import { RouteErrorPage } from "./RouteErrorPage";

function Root() {
  return (
    <AuthProvider>
      <SessionProviders>
        <AppLayout />
      </SessionProviders>
    </AuthProvider>
  );
}

const router = createBrowserRouter([
  { element: <Root />, errorElement: <RouteErrorPage />, children: pageRoutes },
]);

export function App() {
  return <RouterProvider router={router} />;
}
