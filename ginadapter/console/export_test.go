package console

// FormToken mints a form token, for tests that post forms without
// scraping a page.
var FormToken = formToken
