// The console's two pages, bundled by Bun at build time (HTML imports: their scripts and
// styles are built for the browser and embedded in the binary, nothing fetched at run time).
// Imported dynamically and importing nothing else: with --splitting, Bun gives a chunk that
// holds HTML imports the pages' public path ("/") for its own imports too.
import consolePage from "./ui/index.html";
import playerPage from "./ui/player.html";

export { consolePage, playerPage };
