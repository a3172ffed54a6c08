"""The fetcher's downloader policies, one small module each (allow-list, robots.txt, conditional
GET, raw save, redirects, retry, per-host gate, transport), composed in one declared order by
`scrapers.fetch.Fetcher`, as Scrapy's downloader middlewares are."""
