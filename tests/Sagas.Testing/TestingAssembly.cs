namespace Sagas.Testing; public static class TestingAssembly { }
