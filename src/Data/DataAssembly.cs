namespace Sagas.Data; public static class DataAssembly { }
